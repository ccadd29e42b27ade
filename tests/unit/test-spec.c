/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-spec.c - xl's PCI_SPEC_STRING parser: what it accepts and what it
 * makes of it, and its equivalence with Xen 4.17's libxlutil over the
 * corpus in tests/data/spec-corpus.txt.  Every place where the two differ
 * is a libxlutil bug listed in known_differences[] (see spec.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#include "xlu-unsafe.h"
#include "xpci.h"

/* ------------------------------------------------------------------ */
/* Helpers for our parser                                              */
/* ------------------------------------------------------------------ */

static struct xpci_spec parse_ok(const char *s)
{
    struct xpci_spec spec;
    char *err = NULL;
    int rc = xpci_spec_parse(s, &spec, &err);

    if (rc != 0)
        fail_msg("\"%s\" rejected: %s", s, err ? err : "(no message)");
    assert_null(err);
    return spec;
}

/* Rejected with -EINVAL, spec_r untouched, and a message that holds
 * `part` (may be NULL). */
static void assert_rejected(const char *s, const char *part)
{
    struct xpci_spec spec;
    char *err = NULL;
    int rc;

    memset(&spec, 0xa5, sizeof(spec));
    rc = xpci_spec_parse(s, &spec, &err);
    if (rc != -EINVAL)
        fail_msg("\"%s\": expected -EINVAL, got %d", s, rc);
    assert_non_null(err);
    assert_non_null(strstr(err, "invalid PCI_SPEC_STRING \""));
    if (part && !strstr(err, part))
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, err, part);
    assert_int_equal(spec.vslot, (int)0xa5a5a5a5);
    free(err);
}

static void assert_bdf(const struct xpci_spec *spec, unsigned domain,
                       unsigned bus, unsigned dev, unsigned func)
{
    assert_true(spec->has_bdf);
    assert_int_equal(spec->bdf.domain, domain);
    assert_int_equal(spec->bdf.bus, bus);
    assert_int_equal(spec->bdf.dev, dev);
    assert_int_equal(spec->bdf.func, func);
}

/* ------------------------------------------------------------------ */
/* A common view of both parsers' results                              */
/* ------------------------------------------------------------------ */

#define RDM_UNSET (-2) /* libxl's "invalid" is -1 */

struct view {
    int rc;
    bool has_bdf, all;
    unsigned domain, bus, dev, func;
    long vdevfn; /* -1: no slot given */
    int flag[4]; /* permissive, msitranslate, seize, power_mgmt;
                    -1 when not given */
    int rdm;     /* RDM_UNSET, or the libxl enum value */
    char *name;
};

static const char *const flag_names[4] = {
    "permissive",
    "msitranslate",
    "seize",
    "power_mgmt",
};

static void view_dispose(struct view *v)
{
    free(v->name);
}

static void our_view(const char *s, struct view *v)
{
    struct xpci_spec spec;
    char *err = NULL;

    memset(v, 0, sizeof(*v));
    v->rc = xpci_spec_parse(s, &spec, &err);
    if (v->rc) {
        assert_int_equal(v->rc, -EINVAL);
        assert_non_null(err);
        free(err);
        return;
    }
    v->has_bdf = spec.has_bdf;
    v->all = spec.all_functions;
    v->domain = spec.bdf.domain;
    v->bus = spec.bdf.bus;
    v->dev = spec.bdf.dev;
    v->func = spec.bdf.func;
    v->vdevfn = spec.vslot < 0
                    ? -1
                    : spec.vslot << 3 | (spec.vfunc < 0 ? 0 : spec.vfunc);
    v->flag[0] = spec.permissive;
    v->flag[1] = spec.msitranslate;
    v->flag[2] = spec.seize;
    v->flag[3] = spec.power_mgmt;
    v->rdm = spec.rdm_policy == XPCI_OPT_UNSET ? RDM_UNSET : spec.rdm_policy;
    v->name = spec.name ? strdup(spec.name) : NULL;
    xpci_spec_dispose(&spec);
}

static XLU_Config *xlu;
static FILE *xlu_report;

/*
 * libxlutil's result.  Its output has no "not given": a boolean left alone
 * reads like one set to 0.  So parse twice, into a freshly initialised
 * libxl_device_pci and into one prefilled with other values; a field that
 * differs between the two is one the parser did not set.
 */
#define SENTINEL_VDEVFN 0xdeadbeefU
#define SENTINEL_MASK 0x5a5a5a5aU

static void xlu_view(const char *s, struct view *v)
{
    libxl_device_pci a, b;
    int rcb;

    memset(v, 0, sizeof(*v));
    libxl_device_pci_init(&a);
    libxl_device_pci_init(&b);
    b.vdevfn = SENTINEL_VDEVFN;
    b.vfunc_mask = SENTINEL_MASK;
    b.permissive = b.msitranslate = b.seize = b.power_mgmt = true;
    b.rdm_policy = LIBXL_RDM_RESERVE_POLICY_STRICT;

    v->rc = xlu_pci_parse_spec_string(xlu, &a, s);
    rcb = xlu_pci_parse_spec_string(xlu, &b, s);
    assert_int_equal(v->rc, rcb);
    if (v->rc == 0) {
        bool given[4] = {
            a.permissive == b.permissive,
            a.msitranslate == b.msitranslate,
            a.seize == b.seize,
            a.power_mgmt == b.power_mgmt,
        };
        bool vals[4] = {a.permissive, a.msitranslate, a.seize, a.power_mgmt};

        v->has_bdf = b.vfunc_mask != SENTINEL_MASK;
        v->all = a.vfunc_mask == LIBXL_PCI_FUNC_ALL;
        /* The BDF parser sets the mask to 1 or every function. */
        assert_int_equal(a.vfunc_mask, v->has_bdf ? b.vfunc_mask : 0);
        if (v->has_bdf)
            assert_true(a.vfunc_mask == 1 || v->all);
        v->domain = (unsigned)a.domain;
        v->bus = a.bus;
        v->dev = a.dev;
        v->func = a.func;
        if (b.vdevfn == SENTINEL_VDEVFN) {
            assert_int_equal(a.vdevfn, 0);
            v->vdevfn = -1;
        } else {
            assert_int_equal(a.vdevfn, b.vdevfn);
            v->vdevfn = a.vdevfn;
        }
        for (int i = 0; i < 4; i++)
            v->flag[i] = given[i] ? vals[i] : -1;
        v->rdm = a.rdm_policy == b.rdm_policy ? (int)a.rdm_policy : RDM_UNSET;
        if (a.name || b.name) {
            assert_non_null(a.name);
            assert_non_null(b.name);
            assert_string_equal(a.name, b.name);
            v->name = strdup(a.name);
        }
    }
    libxl_device_pci_dispose(&a);
    libxl_device_pci_dispose(&b);
}

/* "0000:01:00.0@03,permissive=1,name=gpu", "-,name=gpu" or "rejected". */
static void view_str(const struct view *v, char *buf, size_t size)
{
    static const char *const rdm_names[] = {"invalid", "strict", "relaxed"};
    size_t n = 0;

#define APPEND(...)                                                            \
    do {                                                                       \
        if (n < size)                                                          \
            n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__);             \
    } while (0)

    if (v->rc) {
        snprintf(buf, size, "rejected");
        return;
    }
    if (!v->has_bdf)
        APPEND("-");
    else if (v->all)
        APPEND("%04x:%02x:%02x.*", v->domain, v->bus, v->dev);
    else
        APPEND("%04x:%02x:%02x.%x", v->domain, v->bus, v->dev, v->func);
    if (v->vdevfn >= 0) {
        APPEND("@%02lx", (unsigned long)v->vdevfn >> 3);
        if (v->vdevfn & 7)
            APPEND(".%lx", (unsigned long)v->vdevfn & 7);
    }
    for (int i = 0; i < 4; i++) {
        if (v->flag[i] >= 0)
            APPEND(",%s=%d", flag_names[i], v->flag[i]);
    }
    if (v->rdm >= -1 && v->rdm <= 1)
        APPEND(",rdm_policy=%s", rdm_names[v->rdm + 1]);
    else if (v->rdm != RDM_UNSET)
        APPEND(",rdm_policy=%d", v->rdm);
    if (v->name)
        APPEND(",name=%s", v->name);
#undef APPEND
}

static void xlu_result(const char *s, char *buf, size_t size)
{
    struct view v;

    xlu_view(s, &v);
    view_str(&v, buf, size);
    view_dispose(&v);
}

static void our_result(const char *s, char *buf, size_t size)
{
    struct view v;

    our_view(s, &v);
    view_str(&v, buf, size);
    view_dispose(&v);
}

/* ------------------------------------------------------------------ */
/* Known libxlutil bugs: the only places where the parsers differ      */
/* ------------------------------------------------------------------ */

enum xlu_bug {
    XLU_UNDEFINED,   /* 1: no '.' after the device: reads uninitialised n */
    XLU_WRAP,        /* 2: numbers wrap at 32 bits, negative ones too */
    XLU_BARE_0X,     /* 3: glibc's sscanf reads a bare "0x" as 0 */
    XLU_ATOI,        /* 4: boolean options read with atoi() */
    XLU_KEY_TAIL,    /* 5: bdf= and vslot= ignore what follows the value */
    XLU_RDM_INVALID, /* 6: rdm_policy=invalid accepted */
    XLU_EMPTY_NAME,  /* 7: name= gives the empty name */
};

struct known_difference {
    const char *spec;
    enum xlu_bug bug;
    const char *xlu; /* libxlutil's result (view_str); NULL: not run */
};

/* libxlutil accepts every one of these; we reject them all. */
static const struct known_difference known_differences[] = {
    {"01:00", XLU_UNDEFINED, NULL},
    {"0000:01:00", XLU_UNDEFINED, NULL},
    {"1:2:3", XLU_UNDEFINED, NULL},
    {"0000: 01:00.0", XLU_UNDEFINED, NULL},
    {"01:00 .0", XLU_UNDEFINED, NULL},
    {"01:00,permissive=1", XLU_UNDEFINED, NULL},
    {"bdf=01:00", XLU_UNDEFINED, NULL},
    {"0000:-0:00.0", XLU_UNDEFINED, NULL},
    {"1:0xg.0", XLU_UNDEFINED, NULL},
    {"01:00 ,permissive=1", XLU_UNDEFINED, NULL},

    {"100000001:00.0", XLU_WRAP, "0000:01:00.0"},
    {"0000:100000001:00.0", XLU_WRAP, "0000:01:00.0"},
    {"01:-ffffffff.0", XLU_WRAP, "0000:01:01.0"},
    {"01:00.100000007", XLU_WRAP, "0000:01:00.7"},
    {"01:00.0@100000003", XLU_WRAP, "0000:01:00.0@03"},
    {"01:00.0,vslot=-ffffffe1", XLU_WRAP, "0000:01:00.0@1f"},
    {"bdf=100000001:00.0", XLU_WRAP, "0000:01:00.0"},

    {"01:00.0x", XLU_BARE_0X, "0000:01:00.0"},
    {"01:00.0X", XLU_BARE_0X, "0000:01:00.0"},
    {"01:0x.0", XLU_BARE_0X, "0000:01:00.0"},
    {"01:00.0@0x", XLU_BARE_0X, "0000:01:00.0@00"},

    {"01:00.0,permissive=yes", XLU_ATOI, "0000:01:00.0,permissive=0"},
    {"01:00.0,permissive=true", XLU_ATOI, "0000:01:00.0,permissive=0"},
    {"01:00.0,permissive=", XLU_ATOI, "0000:01:00.0,permissive=0"},
    {"01:00.0,permissive=1abc", XLU_ATOI, "0000:01:00.0,permissive=1"},
    {"01:00.0,permissive=0x1", XLU_ATOI, "0000:01:00.0,permissive=0"},
    {"01:00.0,permissive=4294967296", XLU_ATOI, "0000:01:00.0,permissive=0"},
    {"01:00.0,permissive=2147483648", XLU_ATOI, "0000:01:00.0,permissive=1"},
    {"01:00.0,permissive==1", XLU_ATOI, "0000:01:00.0,permissive=0"},
    {"01:00.0,msitranslate=on", XLU_ATOI, "0000:01:00.0,msitranslate=0"},
    {"01:00.0,seize=yes", XLU_ATOI, "0000:01:00.0,seize=0"},
    {"01:00.0,power_mgmt=no", XLU_ATOI, "0000:01:00.0,power_mgmt=0"},

    {"01:00.0,vslot=3junk", XLU_KEY_TAIL, "0000:01:00.0@03"},
    {"01:00.0,vslot=3.1", XLU_KEY_TAIL, "0000:01:00.0@03"},
    {"01:00.0,vslot=3 ", XLU_KEY_TAIL, "0000:01:00.0@03"},
    {"bdf=01:00.0@3", XLU_KEY_TAIL, "0000:01:00.0"},
    {"bdf=01:00.0junk", XLU_KEY_TAIL, "0000:01:00.0"},
    {"bdf=01:00.0 ", XLU_KEY_TAIL, "0000:01:00.0"},

    {"01:00.0,rdm_policy=invalid", XLU_RDM_INVALID,
     "0000:01:00.0,rdm_policy=invalid"},
    {"01:00.0,rdm_policy=INVALID", XLU_RDM_INVALID,
     "0000:01:00.0,rdm_policy=invalid"},

    {"name=", XLU_EMPTY_NAME, "-,name="},
    {"name=,permissive=1", XLU_EMPTY_NAME, "-,permissive=1,name="},
};

static const struct known_difference *known_difference(const char *s)
{
    for (size_t i = 0;
         i < sizeof(known_differences) / sizeof(*known_differences); i++) {
        if (!strcmp(known_differences[i].spec, s))
            return &known_differences[i];
    }
    return NULL;
}

enum outcome { SAME, DIFFERENT, NOT_RUN };

/* Compare both parsers on s; a difference must be a listed one. */
static enum outcome compare_with_xlu(const char *s)
{
    const struct known_difference *kd = known_difference(s);
    char ours[512], theirs[512];

    our_result(s, ours, sizeof(ours));
    if (xlu_reads_uninitialised(s)) {
        if (!kd || kd->bug != XLU_UNDEFINED)
            fail_msg("\"%s\" is undefined in libxlutil but not listed", s);
        if (strcmp(ours, "rejected"))
            fail_msg("\"%s\": we accept it as %s", s, ours);
        return NOT_RUN;
    }
    if (kd && kd->bug == XLU_UNDEFINED)
        fail_msg("\"%s\" listed as undefined in libxlutil, but is not", s);

    xlu_result(s, theirs, sizeof(theirs));
    if (kd) {
        if (strcmp(theirs, kd->xlu))
            fail_msg("\"%s\": libxlutil gives %s, the list says %s", s, theirs,
                     kd->xlu);
        if (strcmp(ours, "rejected"))
            fail_msg("\"%s\": we accept it as %s", s, ours);
        return DIFFERENT;
    }
    if (strcmp(ours, theirs))
        fail_msg("\"%s\": libxlutil gives %s, we give %s", s, theirs, ours);
    return SAME;
}

/* libxlutil reads s as `theirs`; we reject it, saying `part`. */
static void assert_xlu_bug(const char *s, const char *theirs, const char *part)
{
    char buf[512];

    xlu_result(s, buf, sizeof(buf));
    assert_string_equal(buf, theirs);
    assert_rejected(s, part);
}

/* ------------------------------------------------------------------ */
/* The corpus                                                          */
/* ------------------------------------------------------------------ */

/* Undo the quoting of a corpus line in place (see the corpus header). */
static void unquote(char *line)
{
    static const char esc_from[] = "tnrvf", esc_to[] = "\t\n\r\v\f";
    size_t len = strlen(line);
    char *r, *w;

    if (len < 2 || line[0] != '"' || line[len - 1] != '"')
        return;
    line[len - 1] = '\0';
    for (r = line + 1, w = line; *r; r++) {
        const char *e;

        if (*r == '\\' && r[1]) {
            r++;
            e = strchr(esc_from, *r);
            *w++ = e ? esc_to[e - esc_from] : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static char **load_corpus(size_t *n_r)
{
    const char *top = getenv("top_srcdir");
    const char *slash = strrchr(__FILE__, '/');
    char path[4096], *line = NULL, **specs = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    FILE *f;

    if (top)
        snprintf(path, sizeof(path), "%s/tests/data/spec-corpus.txt", top);
    else if (slash)
        snprintf(path, sizeof(path), "%.*s/../data/spec-corpus.txt",
                 (int)(slash - __FILE__), __FILE__);
    else
        snprintf(path, sizeof(path), "../data/spec-corpus.txt");
    f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));

    while ((len = getline(&line, &cap, f)) >= 0) {
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (!len || line[0] == '#')
            continue;
        unquote(line);
        specs = realloc(specs, (n + 1) * sizeof(*specs));
        assert_non_null(specs);
        specs[n] = strdup(line);
        assert_non_null(specs[n]);
        n++;
    }
    free(line);
    fclose(f);
    *n_r = n;
    return specs;
}

static void test_spec_matches_libxlutil_over_corpus(void **state)
{
    size_t n, same = 0, different = 0, not_run = 0;
    char **specs = load_corpus(&n);

    assert_true(n >= 150);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(specs[i], specs[j]))
                fail_msg("\"%s\" is in the corpus twice", specs[i]);
        }
        switch (compare_with_xlu(specs[i])) {
        case SAME:
            same++;
            break;
        case DIFFERENT:
            different++;
            break;
        case NOT_RUN:
            not_run++;
            break;
        }
    }

    /* Every listed difference is exercised. */
    for (size_t k = 0;
         k < sizeof(known_differences) / sizeof(*known_differences); k++) {
        size_t i;

        for (i = 0; i < n && strcmp(specs[i], known_differences[k].spec);)
            i++;
        if (i == n)
            fail_msg("\"%s\" is listed but not in the corpus",
                     known_differences[k].spec);
    }

    print_message("spec corpus: %zu strings, %zu compared with libxlutil: "
                  "%zu agree, %zu known libxlutil bugs; %zu not given to "
                  "libxlutil (undefined behaviour there)\n",
                  n, same + different, same, different, not_run);
    for (size_t i = 0; i < n; i++)
        free(specs[i]);
    free(specs);
}

/* ------------------------------------------------------------------ */
/* Behaviour                                                           */
/* ------------------------------------------------------------------ */

static void test_spec_init_leaves_everything_unset(void **state)
{
    struct xpci_spec spec;

    memset(&spec, 0xff, sizeof(spec));
    xpci_spec_init(&spec);
    assert_false(spec.has_bdf);
    assert_false(spec.all_functions);
    assert_int_equal(spec.vslot, -1);
    assert_int_equal(spec.vfunc, -1);
    assert_int_equal(spec.permissive, XPCI_OPT_UNSET);
    assert_int_equal(spec.msitranslate, XPCI_OPT_UNSET);
    assert_int_equal(spec.seize, XPCI_OPT_UNSET);
    assert_int_equal(spec.power_mgmt, XPCI_OPT_UNSET);
    assert_int_equal(spec.rdm_policy, XPCI_OPT_UNSET);
    assert_null(spec.name);
    xpci_spec_dispose(&spec);
    xpci_spec_dispose(NULL);
}

static void test_spec_bdf_alone_sets_only_the_bdf(void **state)
{
    struct xpci_spec spec = parse_ok("0000:03:00.1");

    assert_bdf(&spec, 0, 3, 0, 1);
    assert_false(spec.all_functions);
    assert_int_equal(spec.vslot, -1);
    assert_int_equal(spec.vfunc, -1);
    assert_int_equal(spec.permissive, XPCI_OPT_UNSET);
    assert_int_equal(spec.msitranslate, XPCI_OPT_UNSET);
    assert_int_equal(spec.seize, XPCI_OPT_UNSET);
    assert_int_equal(spec.power_mgmt, XPCI_OPT_UNSET);
    assert_int_equal(spec.rdm_policy, XPCI_OPT_UNSET);
    assert_null(spec.name);
    xpci_spec_dispose(&spec);
}

static void test_spec_domain_defaults_to_zero(void **state)
{
    struct xpci_spec spec = parse_ok("3:1f.7");

    assert_bdf(&spec, 0, 3, 0x1f, 7);
    xpci_spec_dispose(&spec);
    spec = parse_ok("abcd:ef:1e.6");
    assert_bdf(&spec, 0xabcd, 0xef, 0x1e, 6);
    xpci_spec_dispose(&spec);
}

static void test_spec_hex_any_case_and_any_leading_zeros(void **state)
{
    struct xpci_spec spec = parse_ok("DEAD:Be:1F.7");

    assert_bdf(&spec, 0xdead, 0xbe, 0x1f, 7);
    xpci_spec_dispose(&spec);
    spec = parse_ok("000000000000000000001:0000001a.00000003");
    assert_bdf(&spec, 0, 1, 0x1a, 3);
    xpci_spec_dispose(&spec);
}

static void test_spec_sscanf_leniencies_are_kept(void **state)
{
    struct xpci_spec spec;

    /* libxlutil reads every number with sscanf("%x"): white space, a
     * sign and 0x before a number are fine. */
    spec = parse_ok("01: 0x1f.+7@ 0X1f");
    assert_bdf(&spec, 0, 1, 0x1f, 7);
    assert_int_equal(spec.vslot, 0x1f);
    xpci_spec_dispose(&spec);
    spec = parse_ok("01:-0.\t3");
    assert_bdf(&spec, 0, 1, 0, 3);
    xpci_spec_dispose(&spec);
    /* ... but not white space before a separator. */
    assert_rejected("01 :00.0", "expected [DDDD:]BB:DD.F");
    assert_rejected(" 01:00.0", "expected [DDDD:]BB:DD.F");
}

static void test_spec_out_of_range_parts_name_the_part(void **state)
{
    char *err = NULL;
    struct xpci_spec spec;

    assert_int_equal(xpci_spec_parse("0000:01:00.8", &spec, &err), -EINVAL);
    assert_string_equal(err, "invalid PCI_SPEC_STRING \"0000:01:00.8\": "
                             "function must be 0-7");
    free(err);
    assert_rejected("01:20.0", "device must be 00-1f");
    assert_rejected("100:00.0", "bus must be 00-ff");
    assert_rejected("10000:00:00.0", "domain must be 0000-ffff");
    assert_rejected("01:00.", "expected a function");
    assert_rejected("1:2:3:4.5", "expected [DDDD:]BB:DD.F");
    assert_rejected("01:00.0junk", "unexpected \"junk\" after the BDF");
}

static void test_spec_wildcard_function_sets_all_functions(void **state)
{
    struct xpci_spec spec = parse_ok("0000:01:00.*");

    assert_bdf(&spec, 0, 1, 0, 0);
    assert_true(spec.all_functions);
    xpci_spec_dispose(&spec);
    spec = parse_ok("bdf=02:03.*,seize=1");
    assert_bdf(&spec, 0, 2, 3, 0);
    assert_true(spec.all_functions);
    assert_int_equal(spec.seize, 1);
    xpci_spec_dispose(&spec);
    assert_rejected("01:00.**", "unexpected \"*\"");
    assert_rejected("01:00. *", "expected a function");
}

static void test_spec_vslot_after_at_sign_or_as_key(void **state)
{
    struct xpci_spec spec = parse_ok("01:00.0@3");

    assert_int_equal(spec.vslot, 3);
    assert_int_equal(spec.vfunc, -1);
    xpci_spec_dispose(&spec);
    spec = parse_ok("01:00.0,vslot=1f");
    assert_int_equal(spec.vslot, 0x1f);
    xpci_spec_dispose(&spec);
    /* Slot 0 is kept apart from "no slot", though libxl reads both as
     * vdevfn 0 (let the device model choose). */
    spec = parse_ok("01:00.0@0");
    assert_int_equal(spec.vslot, 0);
    xpci_spec_dispose(&spec);
    assert_rejected("01:00.0@20", "virtual slot 00-1f");
    assert_rejected("01:00.0@", "virtual slot 00-1f");
    assert_rejected("01:00.0@3.1", "unexpected \".1\" after the BDF");
    assert_rejected("01:00.0,vslot=20", "vslot=20: expected a slot 00-1f");
    assert_rejected("@3", "expected [DDDD:]BB:DD.F");
}

static void test_spec_boolean_options_read_as_integers(void **state)
{
    struct xpci_spec spec;

    spec = parse_ok("01:00.0,permissive=1,msitranslate=0,seize=2,"
                    "power_mgmt=-1");
    assert_int_equal(spec.permissive, 1);
    assert_int_equal(spec.msitranslate, 0);
    assert_int_equal(spec.seize, 1); /* libxl keeps a bool */
    assert_int_equal(spec.power_mgmt, 1);
    assert_int_equal(spec.rdm_policy, XPCI_OPT_UNSET);
    xpci_spec_dispose(&spec);
    spec = parse_ok("01:00.0,permissive= +007");
    assert_int_equal(spec.permissive, 1);
    xpci_spec_dispose(&spec);
    assert_rejected("01:00.0,seize=yes", "seize=yes: expected 0 or 1");
}

static void test_spec_rdm_policy_strict_or_relaxed_any_case(void **state)
{
    struct xpci_spec spec = parse_ok("01:00.0,rdm_policy=strict");

    assert_int_equal(spec.rdm_policy, XPCI_RDM_POLICY_STRICT);
    xpci_spec_dispose(&spec);
    spec = parse_ok("01:00.0,rdm_policy=Relaxed");
    assert_int_equal(spec.rdm_policy, XPCI_RDM_POLICY_RELAXED);
    xpci_spec_dispose(&spec);
    assert_rejected("01:00.0,rdm_policy=bogus",
                    "rdm_policy=bogus: expected strict or relaxed");
}

static void test_spec_name_without_bdf(void **state)
{
    struct xpci_spec spec = parse_ok("name=gpu=0@3,permissive=1");

    assert_false(spec.has_bdf);
    assert_string_equal(spec.name, "gpu=0@3");
    assert_int_equal(spec.permissive, 1);
    xpci_spec_dispose(&spec);
    assert_null(spec.name);
}

static void test_spec_bdf_and_name_exclude_each_other(void **state)
{
    assert_rejected("01:00.0,name=gpu", "a BDF and name= exclude");
    assert_rejected("name=gpu,bdf=01:00.0", "a BDF and name= exclude");
    assert_rejected("", "neither a BDF nor name= given");
    assert_rejected("permissive=1", "neither a BDF nor name= given");
}

static void test_spec_bdf_key_equals_positional_bdf(void **state)
{
    struct xpci_spec a = parse_ok("0000:01:00.1,vslot=3,permissive=1");
    struct xpci_spec b = parse_ok("bdf=0000:01:00.1,vslot=3,permissive=1");

    assert_int_equal(xpci_bdf_cmp(&a.bdf, &b.bdf), 0);
    assert_true(b.has_bdf);
    assert_int_equal(a.vslot, b.vslot);
    assert_int_equal(a.permissive, b.permissive);
    xpci_spec_dispose(&a);
    xpci_spec_dispose(&b);
}

static void test_spec_later_duplicate_key_wins(void **state)
{
    struct xpci_spec spec;

    spec = parse_ok("01:00.*@3,permissive=1,permissive=0,vslot=4,"
                    "bdf=02:00.1");
    assert_bdf(&spec, 0, 2, 0, 1);
    assert_false(spec.all_functions);
    assert_int_equal(spec.vslot, 4);
    assert_int_equal(spec.permissive, 0);
    xpci_spec_dispose(&spec);
    spec = parse_ok("name=a,name=b,rdm_policy=strict,rdm_policy=relaxed");
    assert_string_equal(spec.name, "b");
    assert_int_equal(spec.rdm_policy, XPCI_RDM_POLICY_RELAXED);
    xpci_spec_dispose(&spec);
}

static void test_spec_one_trailing_comma_is_allowed(void **state)
{
    struct xpci_spec spec = parse_ok("01:00.0,");

    xpci_spec_dispose(&spec);
    spec = parse_ok("name=gpu,seize=1,");
    xpci_spec_dispose(&spec);
    assert_rejected("01:00.0,,", "expected KEY=VALUE, found \"\"");
    assert_rejected("01:00.0,,seize=1", "expected KEY=VALUE");
    assert_rejected(",", NULL);
}

static void test_spec_keys_are_exact_and_known(void **state)
{
    assert_rejected("01:00.0,Permissive=1", "unknown key \"Permissive\"");
    assert_rejected("01:00.0, permissive=1", "unknown key \" permissive\"");
    assert_rejected("01:00.0,foo=bar", "unknown key \"foo\"");
    assert_rejected("01:00.0,permissive",
                    "expected KEY=VALUE, found \"permissive\"");
    assert_rejected("01:00.0,permissive,seize=1",
                    "expected KEY=VALUE, found \"permissive\"");
}

static void test_spec_failure_leaves_output_alone(void **state)
{
    struct xpci_spec spec;

    xpci_spec_init(&spec);
    spec.vslot = 7;
    assert_int_equal(xpci_spec_parse("01:00.0,name=x", &spec, NULL), -EINVAL);
    assert_int_equal(spec.vslot, 7);
    assert_null(spec.name);
    assert_int_equal(xpci_spec_parse(NULL, &spec, NULL), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* libxlutil's bugs, one by one                                        */
/* ------------------------------------------------------------------ */

/*
 * The inverted rdm policy check lives in xlu_rdm_parse() (the domain's
 * rdm = "..." line), not in the PCI_SPEC_STRING parser.
 */
static void test_xlu_rdm_parse_inverts_policy_check(void **state)
{
    libxl_rdm_reserve rdm;
    char buf[512];

    /* A valid policy fails, after being written... */
    libxl_rdm_reserve_init(&rdm);
    assert_int_equal(xlu_rdm_parse(xlu, &rdm, "strategy=host,policy=relaxed"),
                     ERROR_INVAL);
    assert_int_equal(rdm.policy, LIBXL_RDM_RESERVE_POLICY_RELAXED);
    libxl_rdm_reserve_dispose(&rdm);
    libxl_rdm_reserve_init(&rdm);
    assert_int_equal(xlu_rdm_parse(xlu, &rdm, "strategy=host,policy=strict"),
                     ERROR_INVAL);
    assert_int_equal(rdm.policy, LIBXL_RDM_RESERVE_POLICY_STRICT);
    libxl_rdm_reserve_dispose(&rdm);
    /* ... an unknown one passes and leaves the policy alone ... */
    libxl_rdm_reserve_init(&rdm);
    assert_int_equal(xlu_rdm_parse(xlu, &rdm, "strategy=host,policy=bogus"), 0);
    assert_int_equal(rdm.strategy, LIBXL_RDM_RESERVE_STRATEGY_HOST);
    assert_int_equal(rdm.policy, LIBXL_RDM_RESERVE_POLICY_INVALID);
    libxl_rdm_reserve_dispose(&rdm);
    /* ... and without a policy it works. */
    libxl_rdm_reserve_init(&rdm);
    assert_int_equal(xlu_rdm_parse(xlu, &rdm, "strategy=host"), 0);
    libxl_rdm_reserve_dispose(&rdm);

    /* The per-device key is right in libxlutil, and here. */
    xlu_result("01:00.0,rdm_policy=strict", buf, sizeof(buf));
    assert_string_equal(buf, "0000:01:00.0,rdm_policy=strict");
    xlu_result("01:00.0,rdm_policy=relaxed", buf, sizeof(buf));
    assert_string_equal(buf, "0000:01:00.0,rdm_policy=relaxed");
    our_result("01:00.0,rdm_policy=strict", buf, sizeof(buf));
    assert_string_equal(buf, "0000:01:00.0,rdm_policy=strict");
    our_result("01:00.0,rdm_policy=relaxed", buf, sizeof(buf));
    assert_string_equal(buf, "0000:01:00.0,rdm_policy=relaxed");
}

static void test_xlu_bug_missing_dot_is_rejected_here(void **state)
{
    /* libxlutil adds an uninitialised offset here; not run there. */
    assert_true(xlu_reads_uninitialised("01:00"));
    assert_true(xlu_reads_uninitialised("0000: 01:00.0"));
    assert_true(xlu_reads_uninitialised("name=x,bdf=01:00"));
    assert_false(xlu_reads_uninitialised("01:00.0,bdf=02:00.0"));
    assert_rejected("01:00", "expected '.' after the device");
    assert_rejected("0000:01:00", "expected '.' after the device");
    assert_rejected("0000: 01:00.0", "expected '.' after the device");
    assert_rejected("bdf=01:00", "bdf=01:00: expected '.' after the device");
}

static void test_xlu_bug_numbers_wrap_at_32_bits(void **state)
{
    assert_xlu_bug("100000001:00.0", "0000:01:00.0", "bus must be 00-ff");
    assert_xlu_bug("01:-ffffffff.0", "0000:01:01.0", "device must be 00-1f");
    assert_xlu_bug("01:00.0@100000003", "0000:01:00.0@03", "virtual slot");
}

static void test_xlu_bug_bare_0x_reads_as_zero(void **state)
{
    assert_xlu_bug("01:00.0x", "0000:01:00.0", "unexpected \"x\"");
    assert_xlu_bug("01:0x.0", "0000:01:00.0", "expected '.'");
}

static void test_xlu_bug_flags_read_with_atoi(void **state)
{
    assert_xlu_bug("01:00.0,seize=yes", "0000:01:00.0,seize=0",
                   "seize=yes: expected 0 or 1");
    assert_xlu_bug("01:00.0,permissive=", "0000:01:00.0,permissive=0",
                   "permissive=: expected 0 or 1");
    assert_xlu_bug("01:00.0,permissive=1abc", "0000:01:00.0,permissive=1",
                   "permissive=1abc");
    assert_xlu_bug("01:00.0,permissive=4294967296", "0000:01:00.0,permissive=0",
                   "permissive=4294967296");
}

static void test_xlu_bug_key_values_ignore_their_tail(void **state)
{
    assert_xlu_bug("01:00.0,vslot=3junk", "0000:01:00.0@03",
                   "vslot=3junk: expected a slot 00-1f");
    /* The slot is dropped without a word. */
    assert_xlu_bug("bdf=01:00.0@3", "0000:01:00.0",
                   "bdf=01:00.0@3: unexpected \"@3\" after the function");
}

static void test_xlu_bug_rdm_policy_invalid_accepted(void **state)
{
    assert_xlu_bug("01:00.0,rdm_policy=invalid",
                   "0000:01:00.0,rdm_policy=invalid",
                   "rdm_policy=invalid: expected strict or relaxed");
}

static void test_xlu_bug_empty_name_accepted(void **state)
{
    assert_xlu_bug("name=", "-,name=", "name= must not be empty");
}

static int group_setup(void **state)
{
    /* libxlutil reports some errors on its own; keep them out of the
     * test output. */
    xlu_report = fopen("/dev/null", "w");
    xlu = xlu_cfg_init(xlu_report ? xlu_report : stderr, "test-spec");
    return xlu ? 0 : -1;
}

static int group_teardown(void **state)
{
    xlu_cfg_destroy(xlu);
    if (xlu_report)
        fclose(xlu_report);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_init_leaves_everything_unset),
        cmocka_unit_test(test_spec_bdf_alone_sets_only_the_bdf),
        cmocka_unit_test(test_spec_domain_defaults_to_zero),
        cmocka_unit_test(test_spec_hex_any_case_and_any_leading_zeros),
        cmocka_unit_test(test_spec_sscanf_leniencies_are_kept),
        cmocka_unit_test(test_spec_out_of_range_parts_name_the_part),
        cmocka_unit_test(test_spec_wildcard_function_sets_all_functions),
        cmocka_unit_test(test_spec_vslot_after_at_sign_or_as_key),
        cmocka_unit_test(test_spec_boolean_options_read_as_integers),
        cmocka_unit_test(test_spec_rdm_policy_strict_or_relaxed_any_case),
        cmocka_unit_test(test_spec_name_without_bdf),
        cmocka_unit_test(test_spec_bdf_and_name_exclude_each_other),
        cmocka_unit_test(test_spec_bdf_key_equals_positional_bdf),
        cmocka_unit_test(test_spec_later_duplicate_key_wins),
        cmocka_unit_test(test_spec_one_trailing_comma_is_allowed),
        cmocka_unit_test(test_spec_keys_are_exact_and_known),
        cmocka_unit_test(test_spec_failure_leaves_output_alone),
        cmocka_unit_test(test_xlu_rdm_parse_inverts_policy_check),
        cmocka_unit_test(test_xlu_bug_missing_dot_is_rejected_here),
        cmocka_unit_test(test_xlu_bug_numbers_wrap_at_32_bits),
        cmocka_unit_test(test_xlu_bug_bare_0x_reads_as_zero),
        cmocka_unit_test(test_xlu_bug_flags_read_with_atoi),
        cmocka_unit_test(test_xlu_bug_key_values_ignore_their_tail),
        cmocka_unit_test(test_xlu_bug_rdm_policy_invalid_accepted),
        cmocka_unit_test(test_xlu_bug_empty_name_accepted),
        cmocka_unit_test(test_spec_matches_libxlutil_over_corpus),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
