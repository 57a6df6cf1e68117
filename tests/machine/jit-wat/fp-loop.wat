(module
  (type $t0 (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (type $t1 (func (param i32 i32 i32 i32 i32 i32)))
  (type $t2 (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory $env.memory 0))
  (import "env" "table" (table $env.table 0 funcref))
  (import "env" "exec" (func $env.exec (type $t1)))
  (import "env" "csr" (func $env.csr (type $t2)))
  (func $f0 (type $t0) (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $p3 i32) (param $p4 i32) (param $p5 i32) (result i32)
    (local $l6 i64) (local $l7 i32) (local $l8 i64) (local $l9 i32) (local $l10 i64) (local $l11 i32) (local $l12 i64) (local $l13 f64) (local $l14 f64) (local $l15 f64) (local $l16 f64) (local $l17 f64) (local $l18 f64) (local $l19 f64) (local $l20 f64) (local $l21 i32) (local $l22 i64) (local $l23 i64)
    local.get $p2
    i32.const 6
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
    local.get $p0
    i32.load offset=696
    i32.const 224
    i32.and
    if $I2
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
    local.set $l23
    block $B3
      loop $L4
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
        if $I5 (result i32)
          local.get $l11
          i64.load offset=98304
          local.get $l10
          i64.const -4089
          i64.and
          i64.ne
          if $I6
            local.get $l6
            i64.const 16
            i64.add
            local.set $l8
            local.get $l7
            i32.const 0
            i32.add
            local.set $l9
            br $B3
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
        block $B7
          block $B8
            local.get $p0
            f64.load offset=272
            local.set $l13
            local.get $p0
            f64.load offset=264
            local.set $l14
            local.get $l13
            local.get $l14
            f64.add
            local.set $l15
            local.get $l15
            local.get $l15
            f64.sub
            f64.const 0x0p+0 (;=0;)
            f64.ne
            br_if $B8
            local.get $l15
            local.get $l13
            f64.sub
            local.set $l17
            local.get $l13
            local.get $l15
            local.get $l17
            f64.sub
            f64.sub
            local.get $l14
            local.get $l17
            f64.sub
            f64.add
            local.set $l16
            local.get $p0
            local.get $l15
            f64.store offset=272
            local.get $l21
            i32.const 256
            i32.or
            local.set $l21
            local.get $l21
            local.get $l16
            f64.const 0x0p+0 (;=0;)
            f64.ne
            i32.or
            local.set $l21
            br $B7
          end
          local.get $l21
          if $I9
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
          i32.const 175
          i32.const 34697555
          i32.const 34697555
          local.get $p3
          i32.const -4096
          i32.and
          i32.const 20
          i32.add
          local.get $p4
          local.get $p5
          local.get $l7
          i32.add
          i32.const 1
          i32.add
          call $env.exec
        end
        block $B10
          block $B11
            local.get $p0
            f64.load offset=264
            local.set $l13
            local.get $p0
            f64.load offset=272
            local.set $l14
            local.get $l13
            local.get $l14
            f64.mul
            local.tee $l15
            f64.const 0x0p+0 (;=0;)
            f64.eq
            if $I12
              local.get $l13
              f64.const 0x0p+0 (;=0;)
              f64.eq
              local.get $l14
              f64.const 0x0p+0 (;=0;)
              f64.eq
              i32.or
              i32.eqz
              br_if $B11
            else
              local.get $l13
              i64.reinterpret_f64
              i64.const 52
              i64.shr_u
              i32.wrap_i64
              i32.const 2047
              i32.and
              i32.const 543
              i32.sub
              i32.const 961
              i32.ge_u
              local.get $l14
              i64.reinterpret_f64
              i64.const 52
              i64.shr_u
              i32.wrap_i64
              i32.const 2047
              i32.and
              i32.const 543
              i32.sub
              i32.const 961
              i32.ge_u
              i32.or
              local.get $l15
              i64.reinterpret_f64
              i64.const 52
              i64.shr_u
              i32.wrap_i64
              i32.const 2047
              i32.and
              i32.const 2
              i32.sub
              i32.const 2045
              i32.ge_u
              i32.or
              br_if $B11
              f64.const 0x1.0000002p+27 (;=1.34218e+08;)
              local.get $l13
              f64.mul
              local.set $l18
              local.get $l18
              local.get $l18
              local.get $l13
              f64.sub
              f64.sub
              local.set $l17
              local.get $l13
              local.get $l17
              f64.sub
              local.set $l18
              f64.const 0x1.0000002p+27 (;=1.34218e+08;)
              local.get $l14
              f64.mul
              local.set $l20
              local.get $l20
              local.get $l20
              local.get $l14
              f64.sub
              f64.sub
              local.set $l19
              local.get $l14
              local.get $l19
              f64.sub
              local.set $l20
              local.get $l17
              local.get $l19
              f64.mul
              local.get $l15
              f64.sub
              local.get $l17
              local.get $l20
              f64.mul
              f64.add
              local.get $l18
              local.get $l19
              f64.mul
              f64.add
              local.get $l18
              local.get $l20
              f64.mul
              f64.add
              local.set $l16
              local.get $l21
              local.get $l16
              f64.const 0x0p+0 (;=0;)
              f64.ne
              i32.or
              local.set $l21
            end
            local.get $p0
            local.get $l15
            f64.store offset=280
            local.get $l21
            i32.const 256
            i32.or
            local.set $l21
            br $B10
          end
          local.get $l21
          if $I13
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
          i32.const 177
          i32.const 304148947
          i32.const 304148947
          local.get $p3
          i32.const -4096
          i32.and
          i32.const 24
          i32.add
          local.get $p4
          local.get $p5
          local.get $l7
          i32.add
          i32.const 2
          i32.add
          call $env.exec
        end
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
        if $I14 (result i32)
          local.get $l11
          i64.load offset=131072
          local.get $l10
          i64.const -4089
          i64.and
          i64.ne
          if $I15
            local.get $l6
            i64.const 28
            i64.add
            local.set $l8
            local.get $l7
            i32.const 3
            i32.add
            local.set $l9
            br $B3
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
        local.get $l23
        i64.const -1
        i64.add
        local.set $l23
        local.get $p0
        local.get $l23
        i64.store offset=88
        local.get $l23
        i64.const 0
        i64.ne
        if $I16
          local.get $l7
          i32.const 6
          i32.add
          local.tee $l7
          i32.const 6
          i32.add
          local.get $p2
          i32.le_s
          br_if $L4
          local.get $l6
          i64.const 16
          i64.add
          local.set $l8
          local.get $l7
          local.set $l9
          br $B3
        end
        local.get $l6
        i64.const 40
        i64.add
        local.set $l8
        local.get $l7
        i32.const 6
        i32.add
        local.set $l9
        br $B3
      end
    end
    local.get $l21
    if $I17
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
    if $I18
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
    if $I19 (result i64)
      local.get $l11
      i64.load offset=15794184
    else
      local.get $l11
      i64.load offset=15794192
      local.get $l8
      i64.ne
      if $I20
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
    if $I21
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
