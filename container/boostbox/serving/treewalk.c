/* Tree-ensemble margins at C speed, for boostbox.serving.treewalknative (ctypes).
 *
 * Computes exactly what fastpath.TreeEvaluator's NumPy code computes, bit for bit:
 * - the node arrays are treearrays.build_nodes' (breadth-first, a split's right child is its
 *   left child + 1; a leaf loops on itself with a NaN threshold, so the walk follows the
 *   model's depth for every tree and stays on a leaf once there);
 * - a row goes RIGHT when `x >= threshold` (float32 compare; false for NaN on either side),
 *   a missing value (NaN) follows default_right;
 * - a group's margin is a float32 accumulator starting at base_margin[group] to which the
 *   leaf values are added one by one in tree order (NumPy's float32 cumsum). Build without
 *   -ffast-math and with -ffp-contract=off: each addition is one rounded float32 add.
 * Memory-safe for the arrays the caller describes: a row narrower than min_width (the
 * largest feature index + 1) is refused before anything is read.
 */
#include <math.h>
#include <stdint.h>

typedef struct {
    const int64_t *feature;       /* per node: the column a split reads (0 for leaves) */
    const float *threshold;       /* per node: split condition, NaN for leaves */
    const uint8_t *default_right; /* per node: 1 when a missing value goes right */
    const int64_t *left;          /* per node: left child (right = left + 1); self for leaves */
    const float *value;           /* per node: leaf value (0 for splits) */
    const int64_t *roots;         /* per tree, trees of one output group side by side */
    const int64_t *bounds;        /* group g's trees are roots[bounds[g]] .. roots[bounds[g+1]-1] */
    const float *base_margin;     /* per group: the intercept as a margin */
    int64_t groups;
    int64_t depth;     /* levels walked in every tree */
    int64_t min_width; /* the largest feature index + 1 */
} bb_forest;

#define LANES 8 /* trees walked side by side: independent loads the CPU overlaps */

/* One level down from node: right when x >= threshold, a missing x follows default_right. */
static inline int64_t step(const bb_forest *f, const float *row, int64_t node) {
    float x = row[f->feature[node]];
    int64_t right = isnan(x) ? (int64_t)f->default_right[node] : (int64_t)(x >= f->threshold[node]);
    return f->left[node] + right;
}

/* sum + the leaf values row reaches in trees roots[start..end), added one by one in tree
 * order. LANES trees are walked side by side; the additions stay sequential. */
static float add_leaves(const bb_forest *f, const float *row, int64_t start, int64_t end, float sum) {
    int64_t t = start;
    for (; t + LANES <= end; t += LANES) {
        int64_t node[LANES];
        for (int k = 0; k < LANES; k++)
            node[k] = f->roots[t + k];
        for (int64_t level = 0; level < f->depth; level++)
            for (int k = 0; k < LANES; k++)
                node[k] = step(f, row, node[k]);
        for (int k = 0; k < LANES; k++)
            sum += f->value[node[k]];
    }
    for (; t < end; t++) {
        int64_t node = f->roots[t];
        for (int64_t level = 0; level < f->depth; level++)
            node = step(f, row, node);
        sum += f->value[node];
    }
    return sum;
}

/* out[r * groups + g] = margin of row r (x[r * width ...]) for output group g.
 * Returns 0, or 1 (nothing written) when width < min_width. */
int bb_tree_margins(const bb_forest *f, const float *x, int64_t rows, int64_t width, float *out) {
    if (width < f->min_width || rows < 0)
        return 1;
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * width;
        for (int64_t g = 0; g < f->groups; g++)
            out[r * f->groups + g] = add_leaves(f, row, f->bounds[g], f->bounds[g + 1], f->base_margin[g]);
    }
    return 0;
}
