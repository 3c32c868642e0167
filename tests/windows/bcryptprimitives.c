/*
 * A stand-in bcryptprimitives.dll for running the tests under Wine 8.0.
 * TEST ONLY, NEVER SHIPPED: scripts/windows/test.sh builds it into
 * build/windows/tests/ next to the test programs; `make dll` and
 * `make dist-windows` never build or pack it.
 *
 * Rust's standard library (1.78 and later) takes its random numbers from
 * ProcessPrng in bcryptprimitives.dll, which Windows 10 and later provide
 * and Debian's Wine 8.0 does not, so wantu.dll would not load there. This
 * exports ProcessPrng over BCryptGenRandom (the system RNG, which Wine has).
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* BCryptGenRandom takes a ULONG length: fill in steps. */
    while (len > 0) {
        ULONG step = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, step, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += step;
        len -= step;
    }
    return TRUE;
}
