/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-bdf.c - PCI address parsing, formatting and Xen's SBDF encoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "xpci.h"

static void assert_parses(const char *s, unsigned dom, unsigned bus,
                          unsigned dev, unsigned func)
{
    struct xpci_bdf b;

    assert_int_equal(xpci_bdf_parse(s, &b), 0);
    assert_int_equal(b.domain, dom);
    assert_int_equal(b.bus, bus);
    assert_int_equal(b.dev, dev);
    assert_int_equal(b.func, func);
}

static void test_bdf_full_form_parses(void **state)
{
    assert_parses("0000:01:00.0", 0, 1, 0, 0);
    assert_parses("abcd:ff:1f.7", 0xabcd, 0xff, 0x1f, 7);
    assert_parses("ABCD:FE:1E.6", 0xabcd, 0xfe, 0x1e, 6);
}

static void test_bdf_domain_defaults_to_zero(void **state)
{
    assert_parses("03:00.1", 0, 3, 0, 1);
    assert_parses("3:0.1", 0, 3, 0, 1);
}

static void test_bdf_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        "", "0", "01:00", "01:00.", "01:00.8", "01:20.0", "01:00.0x",
        "0000:01:00.0 ", " 0000:01:00.0", "00000:01:00.0", "0000:100:00.0",
        "0000:01:000.0", "g0:00.0", "0000:01:00:0", "0000.01.00.0",
        "01:00.*", "1:2:3:4.5",
    };
    struct xpci_bdf b = {.domain = 0x1234};

    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(xpci_bdf_parse(bad[i], &b), -EINVAL);
        /* out-parameter untouched on failure */
        assert_int_equal(b.domain, 0x1234);
    }
    assert_int_equal(xpci_bdf_parse(NULL, &b), -EINVAL);
}

static void test_bdf_format_is_canonical(void **state)
{
    struct xpci_bdf b;
    char s[XPCI_BDF_STRLEN];

    assert_int_equal(xpci_bdf_parse("A:B.3", &b), 0);
    xpci_bdf_format(&b, s);
    assert_string_equal(s, "0000:0a:0b.3");
}

static void test_sbdf_matches_xen_encoding(void **state)
{
    struct xpci_bdf b, back;

    assert_int_equal(xpci_bdf_parse("0001:02:03.4", &b), 0);
    /* segment << 16 | bus << 8 | dev << 3 | func */
    assert_int_equal(xpci_bdf_to_sbdf(&b), 0x0001021cU);
    xpci_bdf_from_sbdf(0x0001021cU, &back);
    assert_int_equal(xpci_bdf_cmp(&b, &back), 0);
}

static void test_bdf_order_is_domain_bus_dev_func(void **state)
{
    struct xpci_bdf a, b;

    xpci_bdf_parse("0000:01:1f.7", &a);
    xpci_bdf_parse("0000:02:00.0", &b);
    assert_true(xpci_bdf_cmp(&a, &b) < 0);
    assert_true(xpci_bdf_cmp(&b, &a) > 0);
    xpci_bdf_parse("0001:00:00.0", &b);
    assert_true(xpci_bdf_cmp(&a, &b) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bdf_full_form_parses),
        cmocka_unit_test(test_bdf_domain_defaults_to_zero),
        cmocka_unit_test(test_bdf_rejects_malformed),
        cmocka_unit_test(test_bdf_format_is_canonical),
        cmocka_unit_test(test_sbdf_matches_xen_encoding),
        cmocka_unit_test(test_bdf_order_is_domain_bus_dev_func),
    };

    return cmocka_run_group_tests_name("bdf", tests, NULL, NULL);
}
