/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * spec.c - xl's PCI_SPEC_STRING, "[BDF][@VSLOT][,KEY=VALUE...]" as
 * xl-pci-configuration(5) describes it: the parser, and the lifetime of
 * struct xpci_spec.
 *
 * The reference is Xen 4.17's libxlutil, xlu_pci_parse_spec_string() in
 * tools/libs/util/libxlu_pci.c (the same from 4.15 through 4.17.7 and the
 * stable-4.17 branch).  We accept what it accepts, with the same meaning,
 * except where its result is plainly wrong.  tests/unit/test-spec.c runs
 * both parsers over tests/data/spec-corpus.txt and pins every difference.
 *
 * What libxlutil does, and so do we:
 * - The string starts with a positional BDF if it reads as one; if not,
 *   all of it is KEY=VALUE pairs.  The domain is there when the run of hex
 *   digits and colons at the very start holds two colons, and is 0 when it
 *   holds one; any other count is not a BDF.
 * - Numbers are read with sscanf("%x"): any number of digits in either
 *   case, white space before a number (but not before ':' or '.'), an
 *   optional sign and an optional 0x.  "BB:DD.*" is every function of the
 *   slot; the function then reads as 0.
 * - "@VSLOT" may only follow a positional BDF; the key vslot= does the
 *   same.  Slots are 00-1f.  There is no way to give a virtual function:
 *   libxl's vdevfn is VSLOT << 3, so vfunc stays -1.
 * - Keys are case-sensitive and an unknown key is an error.  A key may
 *   come more than once and the last one wins; bdf= overrides a positional
 *   BDF.  A value runs to the next comma, so it may hold '=', '@' or
 *   spaces.  One trailing comma is allowed ("01:00.0,", "name=gpu,"); an
 *   empty element anywhere else is an error, and so is white space around
 *   a comma.
 * - permissive, msitranslate, seize and power_mgmt take an integer, and
 *   libxl keeps them as booleans: any non-zero value is 1.
 * - rdm_policy is strict or relaxed in any case (libxl looks enum names up
 *   with strcasecmp).
 * - Exactly one of a BDF (positional or bdf=) and name= must be given.
 *
 * Where libxlutil is wrong, and we reject what it accepts:
 * 1. A device number that is not followed by '.' ("01:00", "0000:01:00",
 *    "bdf=01:00", "0000: 01:00.0" - the space ends the colon count, so
 *    0000 is read as the bus and 01 as the device).  parse_bdf() matches
 *    sscanf("%x:%x.%n") up to the missing '.', never reaches %n, and adds
 *    the uninitialised n to its read pointer: undefined behaviour.
 * 2. Numbers beyond 32 bits wrap, and so do negative ones, as strtoul
 *    results cut to an unsigned int: "100000001:00.0" is bus 01,
 *    "01:-ffffffff.0" is device 01, "01:00.0@100000003" is slot 03.
 * 3. glibc's sscanf reads a bare "0x" as 0 where ISO C calls it a matching
 *    failure, so "01:00.0x" is function 0 and "01:0x.0" device 0.
 * 4. The boolean options are read with atoi(), which never fails:
 *    "seize=yes", "permissive=true" and "permissive=" silently mean 0,
 *    "permissive=1abc" means 1 and "permissive=4294967296" wraps to 0.
 *    We take a whole decimal integer that fits an int.
 * 5. The values of bdf= and vslot= are parsed without looking at their
 *    end: "vslot=3junk" is slot 3, and "bdf=01:00.0@3" silently drops the
 *    slot.
 * 6. "rdm_policy=invalid" is accepted: "invalid" is libxl's enum name for
 *    "no policy", not a policy.  (An unknown policy fails with ERROR_FAIL
 *    rather than ERROR_INVAL.)
 * 7. "name=" gives the empty name.
 * libxlutil also leaks the first name of "name=a,name=b" and leaves a
 * half-filled libxl_device_pci behind on failure; we write nothing then.
 *
 * The rdm policy check that is inverted since 4.15 is not in this parser
 * but in xlu_rdm_parse(), which reads the domain-wide `rdm = "..."`
 * option.  It tests `!parse_rdm_policy(...)`, so
 * "strategy=host,policy=strict" and "strategy=host,policy=relaxed" fail
 * with ERROR_INVAL (after writing the policy), while
 * "strategy=host,policy=bogus" succeeds and leaves the policy as it was.
 * xl drops an rdm line that fails to parse, strategy included.  The
 * per-device rdm_policy= key read here maps strict to strict and relaxed
 * to relaxed, in libxlutil and here alike.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "xpci-internal.h"

#define SPEC_BDF_FORM "expected [DDDD:]BB:DD.F"

void xpci_spec_init(struct xpci_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->vslot = -1;
    spec->vfunc = -1;
    spec->permissive = XPCI_OPT_UNSET;
    spec->msitranslate = XPCI_OPT_UNSET;
    spec->seize = XPCI_OPT_UNSET;
    spec->power_mgmt = XPCI_OPT_UNSET;
    spec->rdm_policy = XPCI_OPT_UNSET;
}

void xpci_spec_dispose(struct xpci_spec *spec)
{
    if (!spec)
        return;
    free(spec->name);
    xpci_spec_init(spec);
}

static void spec_disposep(struct xpci_spec *spec)
{
    xpci_spec_dispose(spec);
}

/* White space as isspace() sees it in the C locale. */
static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Read one number the way libxlutil's sscanf("%x") does: white space, an
 * optional sign, an optional 0x, hex digits.  Returns the characters read,
 * or 0 when there is no number.  A "0x" without digits after it is read
 * as the number 0 followed by 'x', which every caller then rejects (bug 3
 * above).  *val_r is the value, or UINT64_MAX when it is negative or does
 * not fit 32 bits (bug 2), so that any range check fails.
 */
static size_t scan_hex(const char *s, uint64_t *val_r)
{
    const char *p = s, *digits;
    bool neg = false;
    uint64_t v = 0;

    while (is_space(*p))
        p++;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hex_digit(p[2]) >= 0)
        p += 2;
    for (digits = p; hex_digit(*p) >= 0; p++) {
        if (v <= UINT32_MAX)
            v = v << 4 | (unsigned)hex_digit(*p);
    }
    if (p == digits)
        return 0;
    if (v > UINT32_MAX || (neg && v))
        v = UINT64_MAX;
    *val_r = v;
    return (size_t)(p - s);
}

/*
 * A BDF as libxlutil's parse_bdf() reads it, "[DDDD:]BB:DD.F" or
 * "[DDDD:]BB:DD.*".  Only the start of s is read: on success *end_r
 * points after the function.  On failure *why_r says what is wrong.
 */
static int parse_bdf(const char *s, struct xpci_bdf *bdf_r, bool *all_r,
                     const char **end_r, const char **why_r)
{
    uint64_t num[3], func = 0;
    unsigned colons = 0, i;
    const char *p;
    bool all = false;
    size_t n;

    /* The domain is there if the leading run of [0-9a-fA-F:] has two
     * colons; libxlutil counts before it reads. */
    for (p = s; hex_digit(*p) >= 0 || *p == ':'; p++)
        colons += *p == ':';
    if (colons < 1 || colons > 2) {
        *why_r = SPEC_BDF_FORM;
        return -EINVAL;
    }

    p = s;
    for (i = 0; i <= colons; i++) {
        n = scan_hex(p, &num[i]);
        if (!n) {
            *why_r = SPEC_BDF_FORM;
            return -EINVAL;
        }
        p += n;
        if (i < colons && *p++ != ':') {
            *why_r = SPEC_BDF_FORM;
            return -EINVAL;
        }
    }
    if (*p++ != '.') {
        *why_r = "expected '.' after the device";
        return -EINVAL;
    }

    if (colons == 2 && num[0] > 0xffff) {
        *why_r = "domain must be 0000-ffff";
        return -EINVAL;
    }
    if (num[colons - 1] > 0xff) {
        *why_r = "bus must be 00-ff";
        return -EINVAL;
    }
    if (num[colons] > 0x1f) {
        *why_r = "device must be 00-1f";
        return -EINVAL;
    }

    if (*p == '*') {
        all = true;
        p++;
    } else {
        n = scan_hex(p, &func);
        if (!n) {
            *why_r = "expected a function (0-7 or *) after '.'";
            return -EINVAL;
        }
        if (func > 7) {
            *why_r = "function must be 0-7";
            return -EINVAL;
        }
        p += n;
    }

    bdf_r->domain = colons == 2 ? (uint16_t)num[0] : 0;
    bdf_r->bus = (uint8_t)num[colons - 1];
    bdf_r->dev = (uint8_t)num[colons];
    bdf_r->func = (uint8_t)func;
    *all_r = all;
    *end_r = p;
    return 0;
}

/* A virtual slot, 00-1f; *end_r points after it. */
static int parse_vslot(const char *s, int *vslot_r, const char **end_r)
{
    uint64_t v;
    size_t n = scan_hex(s, &v);

    if (!n || v > 0x1f)
        return -EINVAL;
    *vslot_r = (int)v;
    *end_r = s + n;
    return 0;
}

/*
 * A boolean option's value: what atoi() would read (white space, a sign,
 * decimal digits), but all of it and within an int (bug 4).  libxl keeps
 * only whether it is zero.
 */
static int parse_flag(const char *s, int *val_r)
{
    const char *p = s, *digits;
    long long v = 0;
    bool neg = false;

    while (is_space(*p))
        p++;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    for (digits = p; *p >= '0' && *p <= '9'; p++) {
        if (v <= (long long)INT_MAX + 1)
            v = v * 10 + (*p - '0');
    }
    if (p == digits || *p || v > (long long)INT_MAX + neg)
        return -EINVAL;
    *val_r = v != 0;
    return 0;
}

static int parse_rdm_policy(const char *s, int *policy_r)
{
    if (!strcasecmp(s, "strict"))
        *policy_r = XPCI_RDM_POLICY_STRICT;
    else if (!strcasecmp(s, "relaxed"))
        *policy_r = XPCI_RDM_POLICY_RELAXED;
    else
        return -EINVAL;
    return 0;
}

/* Set *err_r to 'invalid PCI_SPEC_STRING "s": <why>'; returns -EINVAL. */
static int spec_error(char **err_r, const char *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int spec_error(char **err_r, const char *s, const char *fmt, ...)
{
    char why[256];
    va_list ap;

    if (!err_r)
        return -EINVAL;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    /* A message that cannot be allocated is left out, not reported. */
    *err_r = xpci__sprintf("invalid PCI_SPEC_STRING \"%s\": %s", s, why);
    return -EINVAL;
}

/* Boolean keys and where their values go. */
static int *flag_field(struct xpci_spec *spec, const char *key)
{
    if (!strcmp(key, "permissive"))
        return &spec->permissive;
    if (!strcmp(key, "msitranslate"))
        return &spec->msitranslate;
    if (!strcmp(key, "seize"))
        return &spec->seize;
    if (!strcmp(key, "power_mgmt"))
        return &spec->power_mgmt;
    return NULL;
}

/*
 * One KEY=VALUE pair into sp.  key and val are NUL-terminated pieces of a
 * copy of s, which error messages quote.
 */
static int spec_key(struct xpci_spec *sp, const char *s, const char *key,
                    const char *val, char **err_r)
{
    const char *why = NULL, *end;
    int *flag;

    if (!strcmp(key, "bdf")) {
        if (parse_bdf(val, &sp->bdf, &sp->all_functions, &end, &why) < 0)
            return spec_error(err_r, s, "bdf=%s: %s", val, why);
        if (*end)
            return spec_error(err_r, s,
                              "bdf=%s: unexpected \"%s\" after the function",
                              val, end);
        sp->has_bdf = true;
    } else if (!strcmp(key, "vslot")) {
        if (parse_vslot(val, &sp->vslot, &end) < 0 || *end)
            return spec_error(err_r, s, "vslot=%s: expected a slot 00-1f", val);
    } else if ((flag = flag_field(sp, key))) {
        if (parse_flag(val, flag) < 0)
            return spec_error(err_r, s, "%s=%s: expected 0 or 1", key, val);
    } else if (!strcmp(key, "rdm_policy")) {
        if (parse_rdm_policy(val, &sp->rdm_policy) < 0)
            return spec_error(err_r, s,
                              "rdm_policy=%s: expected strict or relaxed", val);
    } else if (!strcmp(key, "name")) {
        char *name;

        if (!*val)
            return spec_error(err_r, s, "name= must not be empty");
        name = strdup(val);
        if (!name)
            return -ENOMEM;
        free(sp->name);
        sp->name = name;
    } else if (strchr(key, ',')) {
        /* The pair's '=' belongs to a later element. */
        return spec_error(err_r, s, "expected KEY=VALUE, found \"%.*s\"",
                          (int)strcspn(key, ","), key);
    } else {
        return spec_error(err_r, s, "unknown key \"%s\"", key);
    }
    return 0;
}

int xpci_spec_parse(const char *s, struct xpci_spec *spec_r, char **err_r)
{
    _cleanup_(spec_disposep) struct xpci_spec sp;
    _cleanup_free_ char *buf = NULL;
    const char *why = NULL, *end;
    char *p;
    int rc;

    xpci_spec_init(&sp);
    if (!s)
        return -EINVAL;
    buf = strdup(s);
    if (!buf)
        return -ENOMEM;
    p = buf;

    /* A leading BDF is positional if it reads as one. */
    if (parse_bdf(p, &sp.bdf, &sp.all_functions, &end, &why) == 0) {
        sp.has_bdf = true;
        p += end - p;
        if (*p == '@') {
            if (parse_vslot(p + 1, &sp.vslot, &end) < 0)
                return spec_error(err_r, s,
                                  "expected a virtual slot 00-1f after '@'");
            p += end - p;
        }
        if (*p == ',')
            p++;
        else if (*p)
            return spec_error(err_r, s, "unexpected \"%s\" after the BDF", p);
    } else if (*p && !memchr(p, '=', strcspn(p, ","))) {
        /* No '=' before the first comma: this was meant as a BDF. */
        return spec_error(err_r, s, "%s", why);
    }

    /* The rest is KEY=VALUE pairs; a key ends at the first '=' even
     * across a comma, a value at the next comma. */
    while (*p) {
        char *key = p, *eq = strchr(p, '='), *val;

        if (!eq)
            return spec_error(err_r, s, "expected KEY=VALUE, found \"%.*s\"",
                              (int)strcspn(p, ","), p);
        *eq = '\0';
        val = eq + 1;
        p = val + strcspn(val, ",");
        if (*p)
            *p++ = '\0';
        rc = spec_key(&sp, s, key, val, err_r);
        if (rc < 0)
            return rc;
    }

    if (sp.has_bdf && sp.name)
        return spec_error(err_r, s, "a BDF and name= exclude each other");
    if (!sp.has_bdf && !sp.name)
        return spec_error(err_r, s, "neither a BDF nor name= given");

    *spec_r = sp;
    spec_r->name = TAKE_PTR(sp.name);
    return 0;
}

/*
 * A brief comment about options that do nothing.  msitranslate and
 * power_mgmt are settings of qemu-xen-traditional's passthrough: libxl
 * hands them to that device model only.  qemu-xen (the device model
 * Debian ships with Xen 4.17 and 4.20, and the only one there) has no
 * such settings, and pciback does not read them from the backend's
 * opts-N either, so libxl records them and nothing acts on them.
 */
const char *const *xpci_spec_noop_options(const char **why_r)
{
    static const char *const noop[] = {"msitranslate", "power_mgmt", NULL};

    if (why_r)
        *why_r = "recorded, but only qemu-xen-traditional acted on them; "
                 "qemu-xen and pciback ignore them";
    return noop;
}
