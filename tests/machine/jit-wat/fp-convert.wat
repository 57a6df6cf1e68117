(module
  (type $t0 (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (type $t1 (func (param i32 i32 i32 i32 i32 i32)))
  (type $t2 (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory $env.memory 0))
  (import "env" "table" (table $env.table 0 funcref))
  (import "env" "exec" (func $env.exec (type $t1)))
  (import "env" "csr" (func $env.csr (type $t2)))
  (func $f0 (type $t0) (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $p3 i32) (param $p4 i32) (param $p5 i32) (result i32)
    (local $l6 i64) (local $l7 i32) (local $l8 i64) (local $l9 i32) (local $l10 i64) (local $l11 i32) (local $l12 i64) (local $l13 f64) (local $l14 f64) (local $l15 f64) (local $l16 f64) (local $l17 f64) (local $l18 f64) (local $l19 f64) (local $l20 f64) (local $l21 i32) (local $l22 i64) (local $l23 i64) (local $l24 i64) (local $l25 i64) (local $l26 i64)
    local.get $p2
    i32.const 9
    i32.lt_s
    if $I0
      local.get $p5
      return
    end
    local.get $p0
    i64.load offset=520
    i64.const 24576
    i64.and
    i64.eqz
    if $I1
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
    i64.load offset=64
    local.set $l22
    local.get $p0
    i64.load offset=88
    local.set $l26
    block $B2
      loop $L3
        local.get $p0
        local.get $l22
        i64.const 0
        i64.add
        local.set $l10
        local.get $l10
        i32.wrap_i64
        local.tee $l11
        i32.const 8
        i32.shr_u
        local.get $l11
        i32.const 19
        i32.shr_u
        i32.xor
        i32.const 32752
        i32.and
        local.get $p1
        i32.add
        local.tee $l11
        i64.load offset=32768
        local.get $l10
        i64.const -4089
        i64.and
        i64.ne
        if $I4 (result i32)
          local.get $l11
          i64.load offset=98304
          local.get $l10
          i64.const -4089
          i64.and
          i64.ne
          if $I5
            local.get $l6
            i64.const 16
            i64.add
            local.set $l8
            local.get $l7
            i32.const 0
            i32.add
            local.set $l9
            br $B2
          end
          local.get $l11
          i32.load offset=98312
        else
          local.get $l11
          i32.load offset=32776
        end
        local.get $l10
        i32.wrap_i64
        i32.add
        i64.load align=1
        i64.store offset=264
        local.get $l21
        i32.const 256
        i32.or
        local.set $l21
        local.get $p0
        f64.load offset=264
        local.set $l13
        local.get $l13
        f64.trunc
        local.set $l14
        i32.const 2147483647
        local.get $l14
        i32.trunc_sat_f64_s
        local.get $l13
        local.get $l13
        f64.ne
        select
        i64.extend_i32_s
        local.set $l23
        local.get $l21
        local.get $l14
        local.get $l13
        f64.ne
        i32.const 1
        i32.and
        i32.const 16
        local.get $l14
        f64.const -0x1p+31 (;=-2.14748e+09;)
        f64.ge
        local.get $l14
        f64.const 0x1p+31 (;=2.14748e+09;)
        f64.lt
        i32.and
        select
        i32.or
        local.set $l21
        local.get $l23
        i32.wrap_i64
        i64.extend_i32_s
        local.set $l12
        local.get $l12
        f64.convert_i64_s
        local.set $l13
        local.get $p0
        local.get $l13
        f64.store offset=272
        local.get $l21
        i32.const 256
        i32.or
        local.set $l21
        local.get $p0
        local.get $p0
        i64.load offset=272
        i64.const 9223372036854775807
        i64.and
        local.get $p0
        i64.load offset=272
        i64.const -1
        i64.xor
        i64.const -9223372036854775808
        i64.and
        i64.or
        i64.store offset=280
        local.get $l21
        i32.const 256
        i32.or
        local.set $l21
        local.get $p0
        local.get $l23
        i64.store offset=80
        block $B6
          block $B7
            local.get $p0
            f64.load offset=280
            local.set $l13
            local.get $p0
            f64.load offset=264
            local.set $l14
            local.get $l13
            local.get $l13
            f64.ne
            local.get $l14
            local.get $l14
            f64.ne
            i32.or
            br_if $B7
            local.get $l13
            local.get $l14
            f64.eq
            i64.extend_i32_u
            local.set $l24
            br $B6
          end
          local.get $p0
          local.get $l24
          i64.store offset=96
          local.get $l21
          if $I8
            local.get $p0
            local.get $p0
            i32.load offset=696
            local.get $l21
            i32.const 31
            i32.and
            i32.or
            i32.store offset=696
            local.get $p0
            local.get $p0
            i64.load offset=520
            i64.const -9223372036854751232
            i64.or
            i64.store offset=520
            i32.const 0
            local.set $l21
          end
          i32.const 187
          i32.const -1575901613
          i32.const -1575901613
          local.get $p3
          i32.const -4096
          i32.and
          i32.const 32
          i32.add
          local.get $p4
          local.get $p5
          local.get $l7
          i32.add
          i32.const 4
          i32.add
          call $env.exec
          local.get $p0
          i64.load offset=96
          local.set $l24
        end
        local.get $p0
        i64.load offset=280
        local.set $l25
        local.get $p0
        local.get $l24
        i64.store offset=96
        local.get $p0
        local.get $l25
        i64.store offset=104
        local.get $l22
        i64.const 8
        i64.add
        local.set $l10
        local.get $l10
        i32.wrap_i64
        local.tee $l11
        i32.const 8
        i32.shr_u
        local.get $l11
        i32.const 19
        i32.shr_u
        i32.xor
        i32.const 32752
        i32.and
        local.get $p1
        i32.add
        local.tee $l11
        i64.load offset=65536
        local.get $l10
        i64.const -4089
        i64.and
        i64.ne
        if $I9 (result i32)
          local.get $l11
          i64.load offset=131072
          local.get $l10
          i64.const -4089
          i64.and
          i64.ne
          if $I10
            local.get $l6
            i64.const 40
            i64.add
            local.set $l8
            local.get $l7
            i32.const 6
            i32.add
            local.set $l9
            br $B2
          end
          local.get $l11
          i32.load offset=131080
        else
          local.get $l11
          i32.load offset=65544
        end
        local.get $l10
        i32.wrap_i64
        i32.add
        local.get $p0
        i64.load offset=280
        i64.store align=1
        local.get $l26
        i64.const -1
        i64.add
        local.set $l26
        local.get $p0
        local.get $l26
        i64.store offset=88
        local.get $l26
        i64.const 0
        i64.ne
        if $I11
          local.get $l7
          i32.const 9
          i32.add
          local.tee $l7
          i32.const 9
          i32.add
          local.get $p2
          i32.le_s
          br_if $L3
          local.get $l6
          i64.const 16
          i64.add
          local.set $l8
          local.get $l7
          local.set $l9
          br $B2
        end
        local.get $l6
        i64.const 52
        i64.add
        local.set $l8
        local.get $l7
        i32.const 9
        i32.add
        local.set $l9
        br $B2
      end
    end
    local.get $l21
    if $I12
      local.get $p0
      local.get $p0
      i32.load offset=696
      local.get $l21
      i32.const 31
      i32.and
      i32.or
      i32.store offset=696
      local.get $p0
      local.get $p0
      i64.load offset=520
      i64.const -9223372036854751232
      i64.or
      i64.store offset=520
    end
    local.get $p0
    local.get $l8
    i64.store offset=512
    local.get $l9
    i32.eqz
    if $I13
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
    if $I14 (result i64)
      local.get $l11
      i64.load offset=15794184
    else
      local.get $l11
      i64.load offset=15794192
      local.get $l8
      i64.ne
      if $I15
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
    if $I16
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
