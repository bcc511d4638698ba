/*
 * fuzz.h - what the libFuzzer harnesses of tests/fuzz share.
 *
 * Each harness is one file with LLVMFuzzerTestOneInput, built by
 * scripts/fuzz.sh with clang -fsanitize=fuzzer,address,undefined together
 * with the project's sources it exercises.  Besides the sanitizers' own
 * findings (overflows, leaks, undefined behaviour), a harness checks the
 * code's promises with FUZZ_CHECK: a broken one aborts, which libFuzzer
 * reports as a crash with the input that caused it.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_msg.h"
#include "wp_utf8.h"

#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: promise broken: %s: ", __FILE__, __LINE__, \
                    #cond);                                                    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* A reason written into err[errlen]: NUL-terminated inside it, valid UTF-8. */
static inline void fuzz_check_reason(const char *err, size_t errlen)
{
    size_t n = strnlen(err, errlen);

    FUZZ_CHECK(n < errlen, "reason not NUL-terminated");
    FUZZ_CHECK(wp_utf8_valid(err, n), "reason not UTF-8: %s", err);
}

/* The input as a C string (malloc'd copy with a NUL after it). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/*
 * An answer line as the daemon sends it: one line ending in '\n', valid
 * UTF-8, one JSON object with a status that the client's parser reads,
 * carrying request_id exactly when has_id says so.
 */
static inline void fuzz_check_answer(const char *line, bool has_id, uint64_t id)
{
    size_t len;
    wp_response resp;

    FUZZ_CHECK(line != NULL, "no answer");
    len = strlen(line);
    FUZZ_CHECK(len > 0 && line[len - 1] == '\n', "answer not a line: %s", line);
    FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL, "answer of two lines: %s", line);
    FUZZ_CHECK(wp_utf8_valid(line, len), "answer not UTF-8: %s", line);
    FUZZ_CHECK(wp_response_parse(line, len - 1, &resp) == 0, "answer unreadable: %s", line);
    FUZZ_CHECK(resp.has_request_id == has_id && (!has_id || resp.request_id == id),
               "answer with the wrong request_id: %s", line);
    wp_response_release(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* FUZZ_H */
