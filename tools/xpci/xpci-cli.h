/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xpci-cli.h - what the xpci command's files share: the command table, global
 * options, and the output helpers (tables, colour, JSON, device names).
 */
#ifndef XPCI_CLI_H
#define XPCI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>


#include "xpci.h"

/* Exit codes, as xl's. */
#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

struct cmd_spec {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
    const char *usage;   /* arguments after the command name */
    const char *options; /* help text, one option a line */
};

extern const struct cmd_spec cmd_table[];
extern const unsigned cmd_table_n;
const struct cmd_spec *cmd_lookup(const char *name);
void cmd_usage(const struct cmd_spec *cmd, FILE *f);

struct cli_select;

/* Global options (xpci.c). */
extern const char *opt_root; /* --root DIR or XPCI_ROOT */
extern int opt_verbose;

/* Open the library (honouring --root); prints the error itself.
 * Returns 0 or EXIT_FAILED. */
int cli_open_ctx(xpci_ctx **ctx_r);
/* The same, then scan the host. */
int cli_open_host(xpci_ctx **ctx_r, unsigned scan_flags,
                  struct xpci_host **host_r);
/* Before a command that changes things: under --root / XPCI_ROOT, say on
 * stderr that it acts on the tree, not on this host. */
void cli_warn_tree(const char *op);
/* Common option parsing: "-h/--help", "--json", "--all" (all_r NULL: not
 * taken), --root and, when sel is non-NULL, --match/--expect; options and
 * operands in any order ("--" ends the options).  Returns the index of the
 * first operand (operands are moved last), -2 after showing the help, or
 * -1 after printing usage. */
int cli_getopt(const struct cmd_spec *cmd, int argc, char **argv,
               bool *json_r, bool *all_r, struct cli_select *sel);
/* For commands taking only --json: -1 when the command should run, else
 * the exit code to return (help shown, or usage error printed). */
int cli_getopt_json_only(const struct cmd_spec *cmd, int argc, char **argv,
                         bool *json_r);

/*
 * Options every command takes after its name, and the selector options
 * (cli_select.c).  Option codes above any command's own.
 */
enum { OPT_ROOT = 0x200, OPT_MATCH, OPT_EXPECT };
#define CLI_COMMON_LONGOPTS {"root", required_argument, NULL, OPT_ROOT}
#define CLI_SELECT_LONGOPTS                                                  \
    {"match", required_argument, NULL, OPT_MATCH},                           \
        {"expect", required_argument, NULL, OPT_EXPECT}
#define CLI_MAX_MATCH 32

struct cli_select {
    struct xpci_selector *sel[CLI_MAX_MATCH];
    const char *expr[CLI_MAX_MATCH];
    unsigned n;
    long expect; /* -1: not given */
};
#define CLI_SELECT_INIT {.expect = -1}

/* Handle option c when it is a common or selector option (s NULL: the
 * command takes no selectors): 1 handled, 0 not one of them, -1 usage
 * error (printed). */
int cli_common_opt(const struct cmd_spec *cmd, struct cli_select *s, int c,
                   const char *arg);
/* After the options: -1 (printed) when --expect came without --match. */
int cli_select_check(const struct cmd_spec *cmd, const struct cli_select *s);
void cli_select_free(struct cli_select *s);
/* The functions of host the selectors pick, each once in BDF order
 * (*devs_r freed by the caller).  With refuse_empty, a selector picking
 * nothing fails; so does a count other than --expect.  EXIT_OK or
 * EXIT_FAILED (printed). */
int cli_select_run(const char *cmd, const struct cli_select *s,
                   const struct xpci_host *host, bool refuse_empty,
                   const struct xpci_device ***devs_r, size_t *n_r);
/* The operands followed by the BDFs the selectors pick on this host, as a
 * NULL-terminated vector freed with cli_devs_free().  EXIT_OK or
 * EXIT_FAILED (printed). */
int cli_select_devs(const char *cmd, const struct cli_select *s,
                    char *const *ops, unsigned n_ops, char ***devs_r,
                    unsigned *n_r);
void cli_devs_free(char **devs);

int cmd_list(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_assignable_add(int argc, char **argv);
int cmd_assignable_remove(int argc, char **argv);
int cmd_assignable_list(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_attached(int argc, char **argv);
int cmd_prepare(int argc, char **argv);
int cmd_capture(int argc, char **argv);
/* When path is a capture (a regular file), extract it into a temporary
 * directory removed at exit and set *root_r to it; 0 or EXIT_FAILED. */
int cli_root_from_archive(const char *path, const char **root_r);

/* "--timeout SEC" (seconds, fractions allowed, at most a day) in
 * milliseconds; -1 after printing why it is malformed. */
int cli_parse_timeout(const char *cmd, const char *arg);

/* out.c */
bool out_color(void);
const char *out_level_color(enum xpci_level level);
const char *out_reset(void);
/* "Ethernet controller: Intel Corporation 82574L ..." from pci.ids. */
void out_names_load(const struct xpci_host *host);
const char *out_device_name(const struct xpci_device *dev);
void out_names_free(void);

/* A text table: add cells row by row, then print aligned. */
struct table;
struct table *table_new(unsigned ncols);
void table_add(struct table *t, const char *cell, const char *color);
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

/* JSON streamed to stdout, laid out as yajl's beautified output (json.c):
 * one generator per document, closed (and flushed) by json_close. */
typedef struct json_gen *json_gen;
json_gen json_open(void);
void json_close(json_gen g);
void json_map_open(json_gen g);
void json_map_close(json_gen g);
void json_array_open(json_gen g);
void json_array_close(json_gen g);
void json_null(json_gen g);
void json_bool(json_gen g, bool v);
void json_integer(json_gen g, long long v);
void json_number(json_gen g, const char *s, size_t len); /* as it is */
void json_string(json_gen g, const char *s, size_t len);
void json_str(json_gen g, const char *s);     /* NULL -> null */
void json_kv_str(json_gen g, const char *k, const char *v);
void json_kv_int(json_gen g, const char *k, long long v);
void json_kv_u64(json_gen g, const char *k, uint64_t v);
void json_kv_bool(json_gen g, const char *k, bool v);
void json_kv_tristate(json_gen g, const char *k, enum xpci_tristate v);
void json_kv_strv(json_gen g, const char *k, char *const *v, unsigned n);
void json_host_info(json_gen g, const struct xpci_host *host);
/* The text header of a report: which Xen, which release xpci is built
 * for, which spec options do nothing there. */
void out_host_header(const struct xpci_host *host);
void json_checks(json_gen g, const struct xpci_report *rep);

/* The outcome of a mutating command: its plan (--dry-run), notes and
 * error, or with json one xpci-result/1 object, to which extra (may be
 * NULL) adds members. */
typedef void (*out_json_fn)(json_gen g, const void *arg);
void out_result(const char *op, const struct xpci_result *res, bool dry_run,
                int r, bool json, out_json_fn extra, const void *arg);
/* A library result as an exit code: 0, -EINVAL usage (2), else 1. */
int cli_exit_code(int r);
/* The end of a mutating command: out_result without extra, then res and
 * ctx freed; the exit code. */
int out_finish(const char *op, struct xpci_result *res, bool dry_run, int r,
               bool json, xpci_ctx *ctx);

#endif /* XPCI_CLI_H */
