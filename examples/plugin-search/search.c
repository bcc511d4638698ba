/*
 * search.c - a winapi-hostd plugin: find a byte pattern in a buffer and
 * report where it is (winapi-plugin(3)).
 *
 *   params: "text" (the bytes of a string) or "hex" (hex digits), 1 to 256
 *           bytes; "max_offsets" (0 to 1000, default 100: a result must
 *           fit in a line of the protocol)
 *   result: "pattern_bytes", "matches" (every occurrence, overlapping
 *           ones too) and "offsets" (the first max_offsets, as offsets in
 *           the buffer file, in order)
 *
 * It reads the range a part at a time, as every operation does; a match
 * across two parts is found through the pattern's length less one byte
 * kept from the end of the last part.  Plain C and the plugin header,
 * nothing else: the same file builds as search.so and search.dll.
 *
 *   winapi-hostd --plugin ./search.so ...
 *   winapi process /mnt/c/temp/buf search '{"text":"needle"}'
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winapi/plugin.h>

#define PATTERN_MAX 256
#define OFFSETS_MAX 1000
#define OFFSETS_DEFAULT 100

struct search {
    unsigned char pattern[PATTERN_MAX];
    size_t plen;
    unsigned char tail[PATTERN_MAX];    /* the last plen - 1 bytes seen */
    size_t tlen;
    uint64_t matches;
    uint64_t *offsets;
    size_t noffsets, max_offsets;
    char *json;                         /* the result, made in finish() */
    size_t json_size;
};

static int hex_value(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
           c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The pattern from params.text or params.hex; NULL, or why not. */
static const char *read_pattern(struct winapi_plugin_call *c, struct search *s)
{
    char buf[2 * PATTERN_MAX + 1];
    long n = c->param(c, "text", buf, sizeof(buf));

    if (n >= 0) {
        if (n == 0 || n > PATTERN_MAX)
            return "params.text must be 1 to 256 bytes";
        memcpy(s->pattern, buf, (size_t)n);
        s->plen = (size_t)n;
        return NULL;
    }
    n = c->param(c, "hex", buf, sizeof(buf));
    if (n < 0)
        return "search needs params.text or params.hex: the bytes to look for";
    if (n == 0 || n % 2 || n > 2 * PATTERN_MAX)
        return "params.hex must be 2 to 512 hex digits, two per byte";
    for (long i = 0; i < n; i += 2) {
        int hi = hex_value((unsigned char)buf[i]), lo = hex_value((unsigned char)buf[i + 1]);
        if (hi < 0 || lo < 0)
            return "params.hex must be 2 to 512 hex digits, two per byte";
        s->pattern[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    s->plen = (size_t)n / 2;
    return NULL;
}

static const char *read_max(struct winapi_plugin_call *c, struct search *s)
{
    char buf[32], *end;
    long n = c->param(c, "max_offsets", buf, sizeof(buf));
    unsigned long v;

    s->max_offsets = OFFSETS_DEFAULT;
    if (n < 0)
        return NULL;
    v = strtoul(buf, &end, 10);
    if (n == 0 || (size_t)n >= sizeof(buf) || *end || buf[0] < '0' || buf[0] > '9' ||
        v > OFFSETS_MAX)
        return "params.max_offsets must be an integer from 0 to 1000";
    s->max_offsets = v;
    return NULL;
}

static int start(struct winapi_plugin_call *c)
{
    struct search *s = calloc(1, sizeof(*s));
    const char *why;

    if (!s) {
        c->set_error(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
        return -1;
    }
    if ((why = read_pattern(c, s)) || (why = read_max(c, s))) {
        free(s);
        c->set_error(c, WINAPI_PLUGIN_BAD_REQUEST, why);
        return -1;
    }
    /* {"pattern_bytes":256,"matches":N,"offsets":[N,...]}: room for all now,
     * since finish() cannot fail. */
    s->json_size = 96 + s->max_offsets * 22;
    s->offsets = malloc((s->max_offsets ? s->max_offsets : 1) * sizeof(*s->offsets));
    s->json = malloc(s->json_size);
    if (!s->offsets || !s->json) {
        free(s->offsets);
        free(s->json);
        free(s);
        c->set_error(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
        return -1;
    }
    c->state = s;
    return 0;
}

/* A match at off, from the start of the range. */
static void found(struct winapi_plugin_call *c, struct search *s, uint64_t off)
{
    if (s->noffsets < s->max_offsets)
        s->offsets[s->noffsets++] = c->buffer_offset + off;
    s->matches++;
}

/* Every match that starts in p[0, starts) and lies within p[0, len). */
static void scan(struct winapi_plugin_call *c, struct search *s, const unsigned char *p,
                 size_t len, size_t starts, uint64_t base)
{
    const unsigned char *q = p, *end;

    if (len < s->plen)
        return;
    if (starts > len - s->plen + 1)
        starts = len - s->plen + 1;
    end = p + starts;
    while (q < end && (q = memchr(q, s->pattern[0], (size_t)(end - q)))) {
        if (memcmp(q, s->pattern, s->plen) == 0)
            found(c, s, base + (uint64_t)(q - p));
        q++;
    }
}

static int run(struct winapi_plugin_call *c)
{
    struct search *s = c->state;
    const unsigned char *p = c->data;
    size_t len = (size_t)c->length, keep = s->plen - 1, head;
    unsigned char join[2 * PATTERN_MAX];

    if (len == 0)
        return 0;
    /* Matches that begin in the last part's tail and end in this one. */
    head = len < keep ? len : keep;
    memcpy(join, s->tail, s->tlen);
    memcpy(join + s->tlen, p, head);
    scan(c, s, join, s->tlen + head, s->tlen, c->offset - s->tlen);
    /* Then this part's own, in slices that let a cancel in. */
    for (size_t off = 0; off < len; off += 256 * 1024) {
        size_t n = len - off < 256 * 1024 ? len - off : 256 * 1024;
        if (c->cancelled(c))
            return -1;
        scan(c, s, p + off, len - off, n, c->offset + off);
        c->progress(c, off + n);
    }
    /* What the next part's matches may begin in. */
    if (len >= keep) {
        memcpy(s->tail, p + len - keep, keep);
        s->tlen = keep;
    } else {
        size_t total = s->tlen + len, drop = total > keep ? total - keep : 0;
        memmove(s->tail, s->tail + drop, s->tlen - drop);
        memcpy(s->tail + s->tlen - drop, p, len);
        s->tlen = total - drop;
    }
    return 0;
}

static void finish(struct winapi_plugin_call *c, int done)
{
    struct search *s = c->state;
    size_t size = s->json_size, n;
    char *json = s->json;

    if (done) {
        n = (size_t)snprintf(json, size, "{\"pattern_bytes\":%u,\"matches\":%llu,\"offsets\":[",
                             (unsigned)s->plen, (unsigned long long)s->matches);
        for (size_t i = 0; i < s->noffsets; i++)
            n += (size_t)snprintf(json + n, size - n, "%s%llu", i ? "," : "",
                                  (unsigned long long)s->offsets[i]);
        snprintf(json + n, size - n, "]}");
        c->set_result(c, json);
    }
    free(json);
    free(s->offsets);
    free(s);
    c->state = NULL;
}

WINAPI_PLUGIN_EXPORT const struct winapi_plugin winapi_plugin_v1 = {
    .abi = WINAPI_PLUGIN_ABI,
    .name = "search",
    .access = WINAPI_PLUGIN_READ,
    .description = "find a byte pattern; report how often and where",
    .start = start,
    .run = run,
    .finish = finish,
};
