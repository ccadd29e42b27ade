/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-qmp-qemu.c - the QMP client against a real qemu-system-x86_64, one
 * stopped (-S) TCG machine per test: capabilities, QEMU's own error
 * answers, query-pci as QEMU writes it, a USB keyboard that QEMU unplugs
 * on its own (so DEVICE_DELETED really arrives), a PCI device whose unplug
 * waits for a guest that is not there, and xen-pci-passthrough refused by
 * a QEMU built without Xen.
 *
 * The machine is "pc" (i440fx), the chipset of Xen's HVM device model:
 * its root bus takes ACPI hot-plug, so a device_del there is a request the
 * guest must answer.  The test binds the QMP socket itself and hands QEMU
 * the listening fd, so the client can connect before QEMU is ready and
 * simply waits for the greeting.  XPCI_QEMU names another binary; without
 * one the test is skipped (77).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "xpci-internal.h"
#include "qmp.h"

#define QEMU_DEFAULT "/usr/bin/qemu-system-x86_64"
#define QEMU_ENV "XPCI_QEMU"
#define QMP_FD 3
/* QEMU's start under TCG takes ~50 ms; allow for a loaded machine. */
#define START_TIMEOUT_MS 20000

static const char *qemu_bin;

struct fixture {
    char dir[64];
    char sock[96];
    char log[96];
    pid_t pid;
    struct xpci__qmp *q;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: QEMU with the listening socket as fd 3, output to log. */
static void exec_qemu(struct fixture *f, int lfd)
{
    char chardev[64];
    int out;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    out = open(f->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(126);
    close(0);
    if (open("/dev/null", O_RDONLY) != 0 || dup2(lfd, QMP_FD) != QMP_FD)
        _exit(126);
    snprintf(chardev, sizeof(chardev), "socket,id=qmp,fd=%d,server=on,wait=off",
             QMP_FD);
    execl(qemu_bin, qemu_bin, "-machine", "pc", "-accel", "tcg", "-m", "64",
          "-nodefaults", "-display", "none", "-S", "-no-user-config",
          "-chardev", chardev, "-mon", "chardev=qmp,mode=control", "-device",
          "qemu-xhci,id=xhci", "-device",
          "pci-testdev,id=pci-pt-00_04.0,addr=4.0", (char *)NULL);
    _exit(127);
}

static void dump_log(const struct fixture *f)
{
    char buf[2048];
    int fd = open(f->log, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, n, stderr);
    close(fd);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char *err = NULL;
    int lfd, rc;

    assert_non_null(f);
    strcpy(f->dir, "/tmp/xpci-qemu-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sock, sizeof(f->sock), "%s/qmp-libxl-1", f->dir);
    snprintf(f->log, sizeof(f->log), "%s/qemu.log", f->dir);
    strcpy(sa.sun_path, f->sock);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0)
        exec_qemu(f, lfd);
    close(lfd);
    *state = f;

    rc = xpci__qmp_open(f->sock, START_TIMEOUT_MS, &f->q, &err);
    if (rc < 0) {
        dump_log(f);
        fail_msg("QMP open: %s (%d)", err ? err : "", rc);
    }
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    if (!f)
        return 0;
    xpci__qmp_close(f->q);
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    unlink(f->sock);
    unlink(f->log);
    rmdir(f->dir);
    free(f);
    return 0;
}

static yajl_val at(yajl_val v, const char *k1, const char *k2)
{
    const char *path[] = {k1, k2, NULL};

    return yajl_tree_get(v, path, yajl_t_any);
}

/* ---------------------------------------------------------------- tests */

static void test_capabilities_negotiated(void **state)
{
    struct fixture *f = *state;
    char *ret = NULL, *err = NULL;
    yajl_val v;

    /* QEMU refuses every other command until capabilities are agreed */
    assert_int_equal(
        xpci__qmp_command(f->q, "query-version", NULL, 2000, &ret, &err), 0);
    v = yajl_tree_parse(ret, NULL, 0);
    assert_non_null(v);
    assert_true(YAJL_IS_INTEGER(at(at(v, "qemu", NULL), "major", NULL)));
    assert_true(YAJL_GET_INTEGER(at(at(v, "qemu", NULL), "major", NULL)) >= 2);
    yajl_tree_free(v);
    free(ret);

    assert_int_equal(
        xpci__qmp_command(f->q, "query-status", NULL, 2000, &ret, &err), 0);
    v = yajl_tree_parse(ret, NULL, 0);
    assert_non_null(v);
    assert_string_equal(YAJL_GET_STRING(at(v, "status", NULL)), "prelaunch");
    assert_true(YAJL_IS_FALSE(at(v, "running", NULL)));
    yajl_tree_free(v);
    free(ret);
    assert_null(err);
}

static void test_unknown_command_gives_qemu_class_and_desc(void **state)
{
    struct fixture *f = *state;
    char *ret = NULL, *err = NULL;

    assert_int_equal(
        xpci__qmp_command(f->q, "xpci-no-such-command", NULL, 2000, &ret, &err),
        -EIO);
    assert_null(ret);
    assert_non_null(err);
    assert_string_equal(err, "CommandNotFound: The command "
                             "xpci-no-such-command has not been found");
    free(err);
    err = NULL;

    /* a known command with a bad argument: QEMU's other class */
    assert_int_equal(xpci__qmp_command(f->q, "device_del",
                                       "{\"id\": \"xpci-nothing\"}", 2000, NULL,
                                       &err),
                     -EIO);
    assert_non_null(strstr(err, "DeviceNotFound: "));
    assert_non_null(strstr(err, "xpci-nothing"));
    free(err);
}

static void test_query_pci_parsed(void **state)
{
    struct fixture *f = *state;
    const struct xpci_bdf listed = {0, 0, 4, 0}, absent = {0, 1, 0, 0};
    char *ret = NULL;
    int vdevfn = -1;
    yajl_val v, devs;
    bool xhci = false;

    /* pci-testdev "pci-pt-00_04.0" was put at 00:04.0 on the command line */
    assert_int_equal(xpci__qmp_pt_find(f->q, &listed, 2000, &vdevfn, NULL), 1);
    assert_int_equal(vdevfn, 4 << 3);
    vdevfn = -1;
    assert_int_equal(xpci__qmp_pt_find(f->q, &absent, 2000, &vdevfn, NULL), 0);
    assert_int_equal(vdevfn, -1);

    /* the raw answer: buses with devices carrying qdev_id, slot, function */
    assert_int_equal(
        xpci__qmp_command(f->q, "query-pci", NULL, 2000, &ret, NULL), 0);
    v = yajl_tree_parse(ret, NULL, 0);
    assert_true(YAJL_IS_ARRAY(v));
    devs = at(v->u.array.values[0], "devices", NULL);
    assert_true(YAJL_IS_ARRAY(devs));
    for (size_t i = 0; i < devs->u.array.len; i++) {
        const char *id =
            YAJL_GET_STRING(at(devs->u.array.values[i], "qdev_id", NULL));

        assert_non_null(id);
        xhci |= !strcmp(id, "xhci");
    }
    assert_true(xhci);
    yajl_tree_free(v);
    free(ret);
}

static void test_usb_unplug_sends_device_deleted(void **state)
{
    struct fixture *f = *state;
    char *err = NULL;

    /* USB devices go at once, without the guest: a real DEVICE_DELETED */
    assert_int_equal(xpci__qmp_command(f->q, "device_add",
                                       "{\"driver\": \"usb-kbd\", \"id\": "
                                       "\"xpci-kbd\", \"bus\": \"xhci.0\"}",
                                       2000, NULL, &err),
                     0);
    assert_int_equal(xpci__qmp_command(f->q, "device_del",
                                       "{\"id\": \"xpci-kbd\"}", 2000, NULL,
                                       &err),
                     0);
    assert_int_equal(
        xpci__qmp_wait_event(f->q, "DEVICE_DELETED", "xpci-kbd", 5000, &err),
        0);
    assert_null(err);
    /* really gone */
    assert_int_equal(xpci__qmp_command(f->q, "device_del",
                                       "{\"id\": \"xpci-kbd\"}", 2000, NULL,
                                       &err),
                     -EIO);
    assert_non_null(strstr(err, "DeviceNotFound"));
    free(err);
}

static void test_pci_unplug_without_guest_times_out(void **state)
{
    struct fixture *f = *state;
    const struct xpci_bdf bdf = {0, 0, 5, 0};
    char *err = NULL;
    int vdevfn = -1;
    int64_t t0, dt;

    /* hot-plugged under the id libxl would give host function 00:05.0 */
    assert_int_equal(xpci__qmp_command(f->q, "device_add",
                                       "{\"driver\": \"pci-testdev\", \"id\": "
                                       "\"pci-pt-00_05.0\", \"addr\": \"5.0\"}",
                                       2000, NULL, &err),
                     0);
    assert_int_equal(xpci__qmp_pt_find(f->q, &bdf, 2000, &vdevfn, NULL), 1);
    assert_int_equal(vdevfn, 5 << 3);

    /* ACPI hot-unplug needs the guest's _EJ0; no guest runs */
    t0 = now_ms();
    assert_int_equal(xpci__qmp_pt_del(f->q, &bdf, 500, &err), -EINPROGRESS);
    dt = now_ms() - t0;
    assert_true(dt >= 495);
    assert_true(dt < 2500);
    assert_non_null(strstr(err, "pci-pt-00_05.0"));
    free(err);
    /* still there */
    assert_int_equal(xpci__qmp_pt_find(f->q, &bdf, 2000, &vdevfn, NULL), 1);
}

static void test_pt_add_refused_without_xen(void **state)
{
    struct fixture *f = *state;
    const struct xpci_bdf bdf = {0, 1, 0, 0};
    char *err = NULL;
    int vdevfn = 77;

    assert_int_equal(
        xpci__qmp_pt_add(f->q, &bdf, -1, true, 2000, &vdevfn, &err), -EIO);
    assert_int_equal(vdevfn, 77);
    assert_non_null(err);
    /* QEMU's own words, behind its error class */
    assert_string_equal(err, "GenericError: 'xen-pci-passthrough' is not a "
                             "valid device model name");
    free(err);
    /* the connection is still usable */
    assert_int_equal(xpci__qmp_pt_find(f->q, &bdf, 2000, &vdevfn, NULL), 0);
}

static void test_pt_del_of_absent_device_is_done(void **state)
{
    struct fixture *f = *state;
    const struct xpci_bdf bdf = {0, 7, 0, 0};
    int64_t t0 = now_ms();

    assert_int_equal(xpci__qmp_pt_del(f->q, &bdf, 5000, NULL), 0);
    assert_true(now_ms() - t0 < 2000);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_capabilities_negotiated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_unknown_command_gives_qemu_class_and_desc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_pci_parsed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usb_unplug_sends_device_deleted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_pci_unplug_without_guest_times_out,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_pt_add_refused_without_xen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pt_del_of_absent_device_is_done,
                                        setup, teardown),
    };

    (void)argc;
    (void)argv;
    qemu_bin = getenv(QEMU_ENV);
    if (!qemu_bin || !*qemu_bin)
        qemu_bin = QEMU_DEFAULT;
    if (access(qemu_bin, X_OK) < 0) {
        fprintf(stderr, "SKIP: no QEMU at %s (set %s)\n", qemu_bin, QEMU_ENV);
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
