/*
 * mkfiles.c - creates N empty files, DIR/0 ... DIR/N-1, in one process:
 * the "create" figure of run-bench-fuse.sh, which times this program.
 *
 *   mkfiles DIR N
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char path[4096];
    long n = argc == 3 ? atol(argv[2]) : -1;

    if (n < 0) {
        fprintf(stderr, "usage: mkfiles DIR N\n");
        return 2;
    }
    for (long i = 0; i < n; i++) {
        int fd;

        snprintf(path, sizeof(path), "%s/%ld", argv[1], i);
        fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0 || close(fd) < 0) {
            fprintf(stderr, "mkfiles: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}
