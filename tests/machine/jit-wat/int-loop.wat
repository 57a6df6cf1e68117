(module
  (type $t0 (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (type $t1 (func (param i32 i32 i32 i32 i32 i32)))
  (type $t2 (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory $env.memory 0))
  (import "env" "table" (table $env.table 0 funcref))
  (import "env" "exec" (func $env.exec (type $t1)))
  (import "env" "csr" (func $env.csr (type $t2)))
  (func $f0 (type $t0) (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $p3 i32) (param $p4 i32) (param $p5 i32) (result i32)
    (local $l6 i64) (local $l7 i32) (local $l8 i64) (local $l9 i32) (local $l10 i64) (local $l11 i32) (local $l12 i64) (local $l13 f64) (local $l14 f64) (local $l15 f64) (local $l16 f64) (local $l17 f64) (local $l18 f64) (local $l19 f64) (local $l20 f64) (local $l21 i64) (local $l22 i64) (local $l23 i64) (local $l24 i64)
    local.get $p2
    i32.const 7
    i32.lt_s
    if $I0
      local.get $p5
      return
    end
    local.get $p4
    i64.extend_i32_u
    i64.const 32
    i64.shl
    local.get $p3
    i32.const -4096
    i32.and
    i64.extend_i32_u
    i64.or
    local.set $l6
    local.get $p0
    i64.load offset=96
    local.set $l21
    local.get $p0
    i64.load offset=80
    local.set $l22
    local.get $p0
    i64.load offset=88
    local.set $l24
    block $B1
      loop $L2
        local.get $l21
        local.get $l22
        i64.add
        local.set $l21
        local.get $l22
        i64.const 3
        i64.add
        local.set $l22
        local.get $l22
        local.get $l21
        i64.xor
        local.set $l23
        local.get $l23
        i64.const 5
        i64.shl
        local.set $l23
        local.get $l22
        local.get $l23
        i64.mul
        local.set $l22
        local.get $l24
        i64.const -1
        i64.add
        local.set $l24
        local.get $p0
        local.get $l21
        i64.store offset=96
        local.get $p0
        local.get $l22
        i64.store offset=80
        local.get $p0
        local.get $l23
        i64.store offset=104
        local.get $p0
        local.get $l24
        i64.store offset=88
        local.get $l24
        i64.const 0
        i64.ne
        if $I3
          local.get $l7
          i32.const 7
          i32.add
          local.tee $l7
          i32.const 7
          i32.add
          local.get $p2
          i32.le_s
          br_if $L2
          local.get $l6
          i64.const 16
          i64.add
          local.set $l8
          local.get $l7
          local.set $l9
          br $B1
        end
        local.get $l6
        i64.const 44
        i64.add
        local.set $l8
        local.get $l7
        i32.const 7
        i32.add
        local.set $l9
        br $B1
      end
    end
    local.get $p0
    local.get $l8
    i64.store offset=512
    local.get $l9
    i32.eqz
    if $I4
      local.get $p5
      return
    end
    local.get $l8
    i32.wrap_i64
    local.tee $l11
    i32.const 4
    i32.shl
    local.get $l11
    i32.const 7
    i32.shr_u
    i32.xor
    i32.const 131040
    i32.and
    local.get $p0
    i32.const 5
    i32.shl
    i32.add
    local.tee $l11
    i64.load offset=15794176
    local.get $l8
    i64.eq
    if $I5 (result i64)
      local.get $l11
      i64.load offset=15794184
    else
      local.get $l11
      i64.load offset=15794192
      local.get $l8
      i64.ne
      if $I6
        local.get $p5
        local.get $l9
        i32.add
        return
      end
      local.get $l11
      i64.load offset=15794200
    end
    local.tee $l12
    i32.wrap_i64
    local.get $p1
    i32.eq
    if $I7
      local.get $p0
      local.get $p1
      local.get $p2
      local.get $l9
      i32.sub
      local.get $l8
      i32.wrap_i64
      local.get $l8
      i64.const 32
      i64.shr_u
      i32.wrap_i64
      local.get $p5
      local.get $l9
      i32.add
      local.get $l12
      i64.const 32
      i64.shr_u
      i32.wrap_i64
    end)
  (export "f0" (func $f0)))
