/*
 * main.c - winapi-hostd: the host side of winapifs.
 *
 * Listens for newline-delimited JSON requests, maps the named buffer files
 * and runs operations on them.  See winapi-hostd(8).
 *
 * `winapi-hostd --service ...` hands the command line to the platform's
 * service code (plat_service), which runs the same serve() below once the
 * service manager starts it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "ops.h"
#include "plat.h"
#include "server.h"

static int write_port_file(const char *path, int port)
{
    /* Binary: "5757\n" on Windows too, where a text stream would add '\r'. */
    FILE *fp = fopen(path, "wb");

    if (!fp)
        return -1;
    fprintf(fp, "%d\n", port);
    return fclose(fp);
}

/* The options would start the daemon: 0, or nonzero after saying why. */
static int check(int argc, char **argv)
{
    struct hostd_config cfg;
    int rc = config_parse(&cfg, argc, argv);

    config_free(&cfg);
    return rc;
}

/* Up and listening until the stop signal; the log is set up. */
static int serve_started(struct hostd_config *cfg, void (*ready)(void))
{
    struct server *srv = server_start(cfg);

    if (!srv)
        return EXIT_FAILURE;
    if (cfg->port_file && write_port_file(cfg->port_file, server_port(srv)) < 0) {
        log_err("cannot write the port file %s", cfg->port_file);
        server_stop(srv);
        return EXIT_FAILURE;
    }
    log_info("listening on %s:%d, %d workers, %s", cfg->listen_addr, server_port(srv),
             cfg->threads, cfg->grants.n ? "token required" : "no token");
    for (int i = 0; i < cfg->n_allow; i++)
        log_info("allowed root %s", cfg->allow[i]);
    for (int i = 0; i < cfg->n_plugins; i++)
        log_info("plugin %s loaded", cfg->plugins[i]);
    if (ready)
        ready();
    plat_wait_for_stop();
    log_info("stopping");
    server_stop(srv);
    log_info("stopped cleanly");
    return EXIT_SUCCESS;
}

static int serve(int argc, char **argv, void (*ready)(void))
{
    struct hostd_config cfg;
    char err[256] = "";
    int rc = config_parse(&cfg, argc, argv);

    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    rc = EXIT_FAILURE;
    /* Before detaching, which leaves the working directory. */
    if (log_setup(!cfg.foreground, cfg.verbose, cfg.log_file, err, sizeof(err)) < 0) {
        fprintf(log_early(), "winapi-hostd: %s\n", err);
        goto err_out1;
    }
    if (plat_init(err, sizeof(err)) < 0 || ops_init() < 0) {
        fprintf(log_early(), "winapi-hostd: cannot initialise: %s\n",
                err[0] ? err : "libgcrypt version mismatch");
        goto err_out2;
    }
    if (!cfg.foreground && plat_detach() < 0) {
        perror("winapi-hostd: cannot detach");
        goto err_out2;
    }
    rc = serve_started(&cfg, ready);
err_out2:
    log_close();
err_out1:
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct plat_daemon hostd = { .check = check, .serve = serve };

    if (argc > 1 && strcmp(argv[1], "--service") == 0)
        return plat_service(argc, argv, &hostd);
    return serve(argc, argv, NULL);
}
