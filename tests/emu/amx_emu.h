/* tests/emu/amx_emu.h - placeholder until the AMX emulation lands (see simd/amx/amx.h). */
