/*
 * main.c - winapi-hostd: the host side of winapifs.
 *
 * Listens for newline-delimited JSON requests, maps the named buffer files
 * and runs operations on them.  See winapi-hostd(8).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

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

int main(int argc, char **argv)
{
    struct hostd_config cfg;
    struct server *srv;
    char err[256] = "";
    int rc = config_parse(&cfg, argc, argv);

    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    if (plat_init(err, sizeof(err)) < 0 || ops_init() < 0) {
        fprintf(stderr, "winapi-hostd: cannot initialise: %s\n",
                err[0] ? err : "libgcrypt version mismatch");
        goto err_out1;
    }
    if (!cfg.foreground && plat_detach() < 0) {
        perror("winapi-hostd: cannot detach");
        goto err_out1;
    }
    log_setup(!cfg.foreground, cfg.verbose);
    srv = server_start(&cfg);
    if (!srv)
        goto err_out1;
    if (cfg.port_file && write_port_file(cfg.port_file, server_port(srv)) < 0) {
        log_err("cannot write the port file %s", cfg.port_file);
        goto err_out2;
    }
    log_info("listening on %s:%d, %d workers, %s", cfg.listen_addr, server_port(srv),
             cfg.threads, cfg.token ? "token required" : "no token");
    for (int i = 0; i < cfg.n_allow; i++)
        log_info("allowed root %s", cfg.allow[i]);
    plat_wait_for_stop();
    log_info("stopping");
    server_stop(srv);
    config_free(&cfg);
    return EXIT_SUCCESS;

err_out2:
    server_stop(srv);
err_out1:
    config_free(&cfg);
    return EXIT_FAILURE;
}
