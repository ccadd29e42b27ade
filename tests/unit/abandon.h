/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * abandon.h - a simulated crash in a test: what the stopped operation had
 * allocated is abandoned with its stack, as a killed process's memory is,
 * and is not a leak of the library's.  Under LeakSanitizer (make
 * check-asan) allocations made between abandoned_begin() and
 * abandoned_end() are left out of its report; elsewhere nothing happens.
 */
#ifndef XPCI_TEST_ABANDON_H
#define XPCI_TEST_ABANDON_H

void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

static inline void abandoned_begin(void)
{
    if (__lsan_disable)
        __lsan_disable();
}

static inline void abandoned_end(void)
{
    if (__lsan_enable)
        __lsan_enable();
}

#endif
