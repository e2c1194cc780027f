/* libsvm training text -> CSR arrays at C speed, for boostbox.formats.libsvmnative (ctypes).
 *
 * Reads what boostbox.formats.libsvm.parse_libsvm(labelled=True) reads, the same way:
 * - lines end at LF, CR, CRLF, VT, FF and 0x1C-0x1E (Python's str.splitlines); tokens are
 *   split at those and at space, TAB and 0x1F (str.split); `#` ends a line's content;
 * - the first token is label[:weight]; every other token is index:value, `qid:...` is
 *   skipped, an empty value (`8:`) is 0 and counted; an index is Python int() syntax,
 *   0 to 2**32 - 2;
 * - numbers are Python float() syntax; each becomes the correctly rounded double (exactly
 *   as Python's float), then float32 by a C cast (as NumPy's astype): bit-identical.
 * Anything this code does not decide alike (bytes >= 0x80, `_` in numbers, very long
 * numbers) stops with BB_DECLINE at that line; a token Python refuses stops with BB_ERROR
 * at its line. The caller then lets the Python parser decide (and word the error).
 * Memory-safe on any input: no read outside [buf, buf + len), no write beyond the caps.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { BB_DONE = 0, BB_FULL = 1, BB_ERROR = 2, BB_DECLINE = 3, BB_PARTIAL = 4 };
enum { K_TOKEN = 0, K_SEP, K_EOL, K_HASH, K_COLON, K_HIGH };

#define MAX_INDEX 4294967294ULL
#define MAX_NUMBER 400       /* longer numbers (valid for Python) go to the Python parser */
#define FAST_DIGITS 19       /* significant digits an uint64_t holds */

typedef struct {
    int64_t line;       /* line breaks passed so far: the current line is line + 1 */
    int64_t rows;       /* rows written (lines with tokens) */
    int64_t nnz;        /* index:value pairs written */
    int64_t bare_lines; /* lines with an index without a value (`8:`) */
    int64_t first_bare; /* the first such line (1-based), 0 when none */
    int64_t bad_line;   /* BB_ERROR / BB_DECLINE: that line (1-based) */
    int64_t bad_offset; /* BB_ERROR / BB_DECLINE: its first byte's offset in the buffer */
    int64_t consumed;   /* bytes of the buffer done: whole lines only */
    int64_t max_index;  /* the largest index written, -1 when none */
    int64_t any_weight; /* some line gave label:weight */
} bb_state;

typedef struct {
    float *labels;
    float *weights;
    int64_t *indptr; /* indptr[0] is the caller's (0); row r ends at indptr[r + 1] */
    uint32_t *indices;
    float *values;
    int64_t row_cap;
    int64_t nnz_cap;
} bb_out;

static unsigned char KIND[256];

static void init_kinds(void) {
    static int done = 0;
    if (done)
        return;
    for (int c = 0; c < 256; c++)
        KIND[c] = c >= 0x80 ? K_HIGH : K_TOKEN;
    KIND[' '] = KIND['\t'] = KIND[0x1f] = K_SEP;
    KIND['\n'] = KIND['\r'] = KIND[0x0b] = KIND[0x0c] = K_EOL;
    KIND[0x1c] = KIND[0x1d] = KIND[0x1e] = K_EOL;
    KIND['#'] = K_HASH;
    KIND[':'] = K_COLON;
    done = 1;
}

static const double P10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* A token this grammar refuses: Python refuses it too, unless it has a `_` (Python reads
 * `1_0`): then the judge decides. */
static int refused(const unsigned char *s, size_t n) {
    return memchr(s, '_', n) != NULL ? BB_DECLINE : BB_ERROR;
}

/* Python float(): [sign] (inf | infinity | nan) case-insensitive, or
 * [sign] (digits [. [digits]] | . digits) [(e|E) [sign] digits]. */
static int number(const unsigned char *s, size_t n, double *out) {
    size_t i = 0;
    int neg = 0, slow = 0, sig = 0;
    long scale = 0;
    uint64_t w = 0;
    size_t digits = 0;
    if (n == 0)
        return BB_ERROR;
    if (n > MAX_NUMBER)
        return BB_DECLINE;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    if ((n - i == 3 || n - i == 8) && !is_digit(s[i]) && s[i] != '.') {
        const char *word = (const char *)s + i;
        if ((n - i == 3 && strncasecmp(word, "inf", 3) == 0) ||
            (n - i == 8 && strncasecmp(word, "infinity", 8) == 0)) {
            *out = neg ? -INFINITY : INFINITY;
            return BB_DONE;
        }
        if (n - i == 3 && strncasecmp(word, "nan", 3) == 0) {
            *out = neg ? -(double)NAN : (double)NAN;
            return BB_DONE;
        }
        return refused(s, n);
    }
    for (; i < n && is_digit(s[i]); i++, digits++) {
        if (sig < FAST_DIGITS) {
            w = w * 10 + (uint64_t)(s[i] - '0');
            sig += w != 0;
        } else {
            slow = 1;
        }
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && is_digit(s[i]); i++, digits++) {
            if (sig < FAST_DIGITS) {
                w = w * 10 + (uint64_t)(s[i] - '0');
                sig += w != 0;
                scale--;
            } else {
                slow = 1;
            }
        }
    }
    if (digits == 0)
        return refused(s, n);
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        long e = 0;
        size_t edigits = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        for (; i < n && is_digit(s[i]); i++, edigits++) {
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
            else
                slow = 1;
        }
        if (edigits == 0)
            return refused(s, n);
        scale += eneg ? -e : e;
    }
    if (i != n)
        return refused(s, n);
    if (!slow && w == 0) {
        *out = neg ? -0.0 : 0.0;
        return BB_DONE;
    }
    if (!slow && w <= (1ULL << 53) && scale >= -22 && scale <= 22) {
        /* exact operands, one rounding: the correctly rounded double */
        double d = scale >= 0 ? (double)w * P10[scale] : (double)w / P10[-scale];
        *out = neg ? -d : d;
        return BB_DONE;
    }
    char text[MAX_NUMBER + 1];
    char *end = NULL;
    memcpy(text, s, n);
    text[n] = '\0';
    *out = strtod(text, &end); /* glibc: correctly rounded; ERANGE keeps inf or 0 */
    return end == text + n ? BB_DONE : BB_DECLINE;
}

/* Python int() then 0 <= index <= MAX_INDEX: [sign] digits. */
static int index_of(const unsigned char *s, size_t n, uint32_t *out) {
    size_t i = 0;
    int neg = 0, big = 0;
    uint64_t v = 0;
    if (n == 0)
        return BB_ERROR;
    if (n > MAX_NUMBER)
        return BB_DECLINE; /* Python's int() has a digit limit of its own */
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return BB_ERROR;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return refused(s, n);
        if (!big) {
            v = v * 10 + (uint64_t)(s[i] - '0');
            big = v > MAX_INDEX;
        }
    }
    if (big || (neg && v != 0))
        return BB_ERROR;
    *out = (uint32_t)v;
    return BB_DONE;
}

typedef struct {
    int64_t nnz;
    int64_t max_index;
    int tokens;
    int bare;
    int weighted;
    double label;
    double weight;
} line_acc;

/* One token [t, t + n) with its first colon at `colon` (NULL when none). */
static int token(const unsigned char *t, size_t n, const unsigned char *colon, line_acc *acc,
                 const bb_out *out) {
    int status;
    if (acc->tokens++ == 0) {
        size_t head = colon ? (size_t)(colon - t) : n;
        status = number(t, head, &acc->label);
        if (status == BB_DONE && colon) {
            acc->weighted = 1;
            status = number(colon + 1, n - head - 1, &acc->weight);
        }
        return status;
    }
    if (colon == NULL)
        return BB_ERROR;
    size_t head = (size_t)(colon - t);
    if (head == 3 && memcmp(t, "qid", 3) == 0)
        return BB_DONE;
    uint32_t index = 0;
    double value = 0.0;
    status = index_of(t, head, &index);
    if (status != BB_DONE)
        return status;
    if (n - head - 1 == 0) {
        acc->bare = 1;
    } else {
        status = number(colon + 1, n - head - 1, &value);
        if (status != BB_DONE)
            return status;
    }
    if (acc->nnz >= out->nnz_cap)
        return BB_FULL;
    out->indices[acc->nnz] = index;
    out->values[acc->nnz] = (float)value;
    acc->nnz++;
    if ((int64_t)index > acc->max_index)
        acc->max_index = index;
    return BB_DONE;
}

/* The line starting at *at: its row written (when it has tokens) and *at moved past its
 * line break, or a status (BB_PARTIAL: the buffer ends inside it and more text follows). */
static int one_line(const unsigned char *buf, int64_t len, int64_t *at, int final, bb_state *st,
                    const bb_out *out) {
    int64_t pos = *at;
    line_acc acc = {st->nnz, st->max_index, 0, 0, 0, 0.0, 1.0};
    for (;;) {
        while (pos < len && KIND[buf[pos]] == K_SEP)
            pos++;
        if (pos >= len || KIND[buf[pos]] == K_EOL)
            break;
        if (KIND[buf[pos]] == K_HASH) {
            for (; pos < len && KIND[buf[pos]] != K_EOL; pos++)
                if (KIND[buf[pos]] == K_HIGH)
                    return BB_DECLINE;
            break;
        }
        int64_t start = pos;
        const unsigned char *colon = NULL;
        for (; pos < len; pos++) {
            unsigned char kind = KIND[buf[pos]];
            if (kind == K_SEP || kind == K_EOL || kind == K_HASH)
                break;
            if (kind == K_HIGH)
                return BB_DECLINE;
            if (kind == K_COLON && colon == NULL)
                colon = buf + pos;
        }
        if (pos >= len && !final)
            return BB_PARTIAL;
        int status = token(buf + start, (size_t)(pos - start), colon, &acc, out);
        if (status != BB_DONE)
            return status;
    }
    if (pos >= len && !final)
        return BB_PARTIAL;
    if (pos < len) {
        if (buf[pos] == '\r' && pos + 1 >= len && !final)
            return BB_PARTIAL; /* maybe CRLF split across buffers */
        pos += (buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] == '\n') ? 2 : 1;
    }
    if (acc.tokens) {
        if (st->rows >= out->row_cap)
            return BB_FULL;
        out->labels[st->rows] = (float)acc.label;
        out->weights[st->rows] = (float)acc.weight;
        out->indptr[st->rows + 1] = acc.nnz;
        st->rows++;
        st->nnz = acc.nnz;
        st->max_index = acc.max_index;
        st->any_weight |= acc.weighted;
        if (acc.bare) {
            st->bare_lines++;
            if (st->first_bare == 0)
                st->first_bare = st->line + 1;
        }
    }
    st->line++;
    *at = pos;
    return BB_DONE;
}

/* Parse whole lines of buf[0, len); `final`: the text ends at len (else the last,
 * unfinished line is left for the next call). Returns BB_DONE (st->consumed bytes done),
 * BB_FULL (grow the arrays, call again from st->consumed), BB_ERROR or BB_DECLINE
 * (st->bad_line, st->bad_offset). */
int bb_libsvm_parse(const unsigned char *buf, int64_t len, int final, bb_state *st,
                    float *labels, float *weights, int64_t *indptr, uint32_t *indices,
                    float *values, int64_t row_cap, int64_t nnz_cap) {
    bb_out out = {labels, weights, indptr, indices, values, row_cap, nnz_cap};
    int64_t pos = 0;
    init_kinds();
    st->consumed = 0;
    while (pos < len) {
        int64_t start = pos;
        int status = one_line(buf, len, &pos, final, st, &out);
        if (status == BB_PARTIAL)
            return BB_DONE;
        if (status == BB_ERROR || status == BB_DECLINE) {
            st->bad_line = st->line + 1;
            st->bad_offset = start;
            return status;
        }
        if (status == BB_FULL)
            return BB_FULL;
        st->consumed = pos;
    }
    return BB_DONE;
}
