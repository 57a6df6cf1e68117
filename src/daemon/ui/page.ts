/** The web console's one page (served at GET /ui); its code is app.ts, its terminal xterm.js. */
export const UI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Virtus</title>
<link rel="stylesheet" href="/ui/xterm.css">
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
  table { border-collapse: collapse; margin: 1em 0; }
  th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: middle; }
  .state-running { color: #070; font-weight: bold; }
  .state-failed { color: #a00; font-weight: bold; }
  #error { color: #a00; min-height: 1.2em; }
  #terminal { width: 820px; height: 420px; background: #000; padding: 4px; }
  canvas { border: 1px solid #ccc; background: #fafafa; }
  form { margin: 0.5em 0; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<h1>Virtus</h1>
<section id="login">
  <form id="login-form">
    <label>Token <input id="token" type="password" size="44" autocomplete="off"></label>
    <button id="login-button" type="submit">Log in</button>
  </form>
</section>
<section id="main" hidden>
  <div id="error"></div>
  <form id="create-form">
    <strong>New VM (default guest)</strong>
    <label>Name <input id="new-name" size="12" required></label>
    <label>Memory <input id="new-memory" size="6" value="128M"></label>
    <label>vCPUs <input id="new-vcpus" type="number" min="1" max="8" value="1"></label>
    <label>CPU limit <input id="new-cpu-limit" size="4" placeholder="none"></label>
    <button id="create-button" type="submit">Create</button>
  </form>
  <table id="vms">
    <thead><tr><th>Name</th><th>State</th><th>vCPUs</th><th>Memory</th><th>CPU</th><th>Heap</th><th></th></tr></thead>
    <tbody></tbody>
  </table>
  <section id="console" hidden>
    <h2>Console: <span id="console-name"></span> <button id="console-close">Close</button></h2>
    <div id="terminal"></div>
  </section>
</section>
<script src="/ui/xterm.js"></script>
<script type="module" src="/ui/app.js"></script>
</body>
</html>
`;
