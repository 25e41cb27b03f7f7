/*
 * pin_libvirt_xml.c - render a pin plan as libvirt domain XML fragments.
 *
 * Part of the pin_libvirt adapter but free of libvirt calls: it only writes
 * text, so the golden-file tests run without a hypervisor. The guest CPU
 * topology follows the plan: one socket per guest NUMA cell (spread plans),
 * and threads=T only when every vCPU is exclusive or numbered and each
 * consecutive run of T vCPUs sits on the T threads of one host core (what
 * thread policy 'require' produces), so the guest scheduler's idea of SMT
 * siblings is true on the host. See libvirt's formatdomain.html for the
 * elements.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/pin_libvirt.h"

struct buf {
    char *s;
    size_t len, cap;
    bool is_oom;
};

static void buf_add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_add(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->is_oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->is_oom = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->is_oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static const char *fmt_set(const struct pin_cpuset *s, char *buf, size_t size)
{
    pin_cpuset_format(s, buf, size);
    return buf;
}

/* Host nodes (OS indices) that run vCPUs; node_mask also counts PUs that run
 * none (an isolated emulator PU, a shared group's further PUs). */
static uint64_t vcpu_node_mask(const struct pin_topo *t, const struct pin_plan *plan)
{
    uint64_t mask = 0;

    for (unsigned v = 0; v < plan->n_vcpus; v++) {
        const struct pin_pu_info *pu =
            plan->vcpu_pu[v] >= 0 ? pin_topo_pu(t, (unsigned)plan->vcpu_pu[v]) : NULL;
        if (pu)
            mask |= UINT64_C(1) << t->nodes[pu->node].os_index;
    }
    return mask;
}

/* Guest NUMA cells: one per host node with vCPUs, for spread plans that give
 * memory (a cell without vCPUs would be cpus='' memory='0', which libvirt refuses). */
static unsigned n_cells(uint64_t cell_mask, const struct pin_plan *plan)
{
    if (plan->numa != PIN_NUMA_SPREAD || plan->mem_mib == 0 || !cell_mask)
        return 1;
    return (unsigned)__builtin_popcountll(cell_mask);
}

static void render_cputune(struct buf *b, const struct pin_plan *plan)
{
    char set[4096];

    buf_add(b, "  <cputune>\n");
    for (unsigned v = 0; v < plan->n_vcpus; v++) {
        struct pin_cpuset s;
        pin_plan_vcpu_cpuset(plan, v, &s);
        buf_add(b, "    <vcpupin vcpu='%u' cpuset='%s'/>\n", v, fmt_set(&s, set, sizeof(set)));
    }
    if (!pin_cpuset_is_empty(&plan->emulator))
        buf_add(b, "    <emulatorpin cpuset='%s'/>\n", fmt_set(&plan->emulator, set, sizeof(set)));
    for (unsigned i = 1; i <= plan->n_iothreads && !pin_cpuset_is_empty(&plan->iothreads); i++)
        buf_add(b, "    <iothreadpin iothread='%u' cpuset='%s'/>\n", i,
                fmt_set(&plan->iothreads, set, sizeof(set)));
    buf_add(b, "  </cputune>\n");
}

static void nodeset_text(uint64_t mask, char *buf, size_t size)
{
    struct pin_cpuset s;

    pin_cpuset_zero(&s);
    for (unsigned n = 0; n < 64; n++)
        if (mask & (UINT64_C(1) << n))
            pin_cpuset_set(&s, n);
    pin_cpuset_format(&s, buf, size);
}

/* The @i-th set bit of @mask (host node OS index of guest cell @i). */
static unsigned nth_bit(uint64_t mask, unsigned i)
{
    for (unsigned n = 0; n < 64; n++)
        if ((mask & (UINT64_C(1) << n)) && i-- == 0)
            return n;
    return 0;
}

static void render_numatune(struct buf *b, const struct pin_plan *plan, uint64_t cell_mask,
                            const struct pin_cpuset *cell_vcpus, unsigned cells)
{
    char set[256];
    bool is_one = __builtin_popcountll(plan->node_mask) == 1;
    const char *mode = plan->is_mem_strict ? "strict" : is_one ? "preferred" : "interleave";

    (void)cell_vcpus;
    if (!plan->node_mask)
        return;
    nodeset_text(plan->node_mask, set, sizeof(set));
    buf_add(b, "  <numatune>\n");
    buf_add(b, "    <memory mode='%s' nodeset='%s'/>\n", mode, set);
    if (cells > 1)
        for (unsigned c = 0; c < cells; c++)
            buf_add(b, "    <memnode cellid='%u' mode='%s' nodeset='%u'/>\n", c,
                    plan->is_mem_strict ? "strict" : "preferred", nth_bit(cell_mask, c));
    buf_add(b, "  </numatune>\n");
}

/* Threads per guest core: see the file comment. */
static unsigned guest_threads(const struct pin_topo *t, const struct pin_plan *plan)
{
    unsigned tpc = pin_topo_threads_per_core(t);

    if (tpc < 2 || plan->n_vcpus % tpc != 0)
        return 1;
    for (unsigned v = 0; v < plan->n_vcpus; v++) {
        const struct pin_pu_info *pu, *first;
        if (plan->vcpu_mode[v] == PIN_MODE_SHARED || plan->vcpu_pu[v] < 0)
            return 1;
        pu = pin_topo_pu(t, (unsigned)plan->vcpu_pu[v]);
        first = plan->vcpu_pu[v - v % tpc] >= 0
                    ? pin_topo_pu(t, (unsigned)plan->vcpu_pu[v - v % tpc])
                    : NULL;
        if (!pu || !first || pu->core != first->core || pu->smt != v % tpc)
            return 1;
    }
    return tpc;
}

static void render_cpu(struct buf *b, const struct pin_topo *t, const struct pin_plan *plan,
                       const struct pin_cpuset *cell_vcpus, unsigned cells)
{
    unsigned threads = guest_threads(t, plan);
    unsigned sockets = cells;
    char set[4096];

    if (plan->n_vcpus % (sockets * threads) != 0)
        sockets = 1;
    buf_add(b, "  <cpu>\n");
    buf_add(b, "    <topology sockets='%u' dies='1' cores='%u' threads='%u'/>\n", sockets,
            plan->n_vcpus / (sockets * threads), threads);
    if (cells > 1) {
        uint64_t left = plan->mem_mib;
        buf_add(b, "    <numa>\n");
        for (unsigned c = 0; c < cells; c++) {
            unsigned nv = pin_cpuset_count(&cell_vcpus[c]);
            uint64_t mem = c + 1 == cells ? left : plan->mem_mib * nv / plan->n_vcpus;
            left -= mem;
            buf_add(b, "      <cell id='%u' cpus='%s' memory='%llu' unit='MiB'/>\n", c,
                    fmt_set(&cell_vcpus[c], set, sizeof(set)), (unsigned long long)mem);
        }
        buf_add(b, "    </numa>\n");
    }
    buf_add(b, "  </cpu>\n");
}

enum nfv_code pin_libvirt_render(const struct pin_topo *t, const struct pin_plan *plan,
                                 unsigned what, char **ret_xml, struct nfv_err *err)
{
    struct buf b = {0};
    struct pin_cpuset *cell_vcpus = NULL;
    uint64_t cell_mask = vcpu_node_mask(t, plan);
    unsigned cells = n_cells(cell_mask, plan);

    if (cells > 1) {
        /* Guest cell c = the c-th host node of the plan, in node order. */
        cell_vcpus = calloc(cells, sizeof(*cell_vcpus));
        if (!cell_vcpus)
            return NFV_ERR(err, NFV_E_NOMEM, "render: out of memory");
        for (unsigned v = 0; v < plan->n_vcpus; v++) {
            const struct pin_pu_info *pu =
                plan->vcpu_pu[v] >= 0 ? pin_topo_pu(t, (unsigned)plan->vcpu_pu[v]) : NULL;
            unsigned node = pu ? t->nodes[pu->node].os_index : 0, c = 0;
            for (unsigned n = 0; n < node; n++)
                if (cell_mask & (UINT64_C(1) << n))
                    c++;
            pin_cpuset_set(&cell_vcpus[c < cells ? c : cells - 1], v);
        }
    }
    if (what & PIN_LV_VCPU) {
        buf_add(&b, "  <vcpu placement='static'>%u</vcpu>\n", plan->n_vcpus);
        if (plan->n_iothreads)
            buf_add(&b, "  <iothreads>%u</iothreads>\n", plan->n_iothreads);
    }
    if (what & PIN_LV_CPUTUNE)
        render_cputune(&b, plan);
    if (what & PIN_LV_NUMATUNE)
        render_numatune(&b, plan, cell_mask, cell_vcpus, cells);
    if (what & PIN_LV_CPU)
        render_cpu(&b, t, plan, cell_vcpus, cells);
    if ((what & PIN_LV_MEMBACKING) && plan->hugepage_kib)
        buf_add(&b,
                "  <memoryBacking>\n    <hugepages>\n      <page size='%llu' unit='KiB'/>\n"
                "    </hugepages>\n  </memoryBacking>\n",
                (unsigned long long)plan->hugepage_kib);
    free(cell_vcpus);
    if (!b.s)
        buf_add(&b, "%s", "");
    if (b.is_oom) {
        free(b.s);
        return NFV_ERR(err, NFV_E_NOMEM, "render: out of memory");
    }
    *ret_xml = b.s;
    return NFV_OK;
}
