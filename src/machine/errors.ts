/**
 * The one error type of Virtus (design 2.9): a stable code and a message a
 * user can act on. The CLI prints `virtus: <message>` and exits with
 * `exitCode`; the daemon maps `code` to an HTTP status.
 */
export class VirtusError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode = 2) {
    super(message);
    this.name = "VirtusError";
    this.code = code;
    this.exitCode = exitCode;
  }
}
