/*
 * fuzz_vm_create_body.c - the whole VM create body, as vmmgrd takes it:
 * vm_req_parse_object on the raw bytes, vm_spec_parse with the POST /v1/vms
 * field list and with the group-member list, then, for an accepted body, a
 * pin plan on a fixed synthetic host and vm_domxml_build.
 *
 * Properties: a refusal is NFV_E_INVAL with a message that names a field in
 * quotes and leaves the spec zeroed; an accepted spec has a valid name,
 * vcpus/memory in range, a role of act/sby/none, NICs of a known kind whose
 * argument holds no markup or control character, a request pinning accepts
 * again, numbered-without-host refused; the member list never accepts
 * "group", "dry_run" or "ignore_reserve". Every accepted spec builds (with
 * its own plan when the host fits it, else a fixed one), the XML parses
 * back with libxml2, and name, disk, group and NIC arguments come back
 * unchanged (nothing added as markup). The domain type is picked from the
 * input size.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fuzz_util.h"
#include "pin/pin.h"
#include "vm/vm_domxml.h"
#include "vm/vm_req.h"
#include "vm/vm_spec.h"

struct fuzz_host {
    struct pin_topo *topo;
    struct pin_alloc *alloc;
    struct pin_plan *fallback; /* 2 exclusive vCPUs */
};

/* One host for the whole run: 2 nodes x 4 cores x 2 threads, PUs 0-1 reserved. */
static const struct fuzz_host *fuzz_host_get(void)
{
    static struct fuzz_host h;
    struct pin_pools pools;
    struct pin_request *req = NULL;

    if (h.topo)
        return &h;
    if (pin_topo_new_synthetic(2, 1, 4, 2, 4096, &h.topo, NULL) ||
        pin_pools_parse(h.topo, "0-1", NULL, NULL, &pools, NULL) ||
        pin_alloc_new(h.topo, &pools, &h.alloc, NULL) ||
        pin_request_new(2, PIN_MODE_EXCLUSIVE, &req, NULL))
        abort();
    h.fallback = pin_plan_new(2);
    if (!h.fallback || pin_plan_compute(h.alloc, req, h.fallback, NULL))
        abort();
    pin_request_free(req);
    return &h;
}

static void fuzz_check_refusal(const struct nfv_err *err, const struct vm_spec *s)
{
    FUZZ_CHECK(err->code == NFV_E_INVAL);
    FUZZ_CHECK(err->msg[0] == '\'' && strchr(err->msg + 1, '\''));
    FUZZ_CHECK(!s->req && !s->nics && !s->name && !s->host && s->n_nics == 0);
}

static bool fuzz_is_markup_free(const char *s)
{
    if (!*s || strpbrk(s, "<>&'\""))
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            return false;
    return true;
}

static void fuzz_check_spec(const struct vm_spec *s)
{
    FUZZ_CHECK(s->name && vm_req_name_check("name", s->name, NULL) == NFV_OK);
    FUZZ_CHECK(s->memory_mib >= 16 && s->memory_mib <= (16u << 20));
    FUZZ_CHECK(s->req && s->req->n_vcpus >= 1 && s->req->n_vcpus <= PIN_MAX_VCPUS);
    FUZZ_CHECK(s->req->mem_mib == s->memory_mib);
    FUZZ_CHECK(pin_request_validate(s->req, NULL) == NFV_OK);
    FUZZ_CHECK(s->role == VM_ROLE_NONE || s->role == VM_ROLE_ACT || s->role == VM_ROLE_SBY);
    FUZZ_CHECK(!s->host || vm_req_name_check("host", s->host, NULL) == NFV_OK);
    FUZZ_CHECK(!s->group || vm_req_name_check("group", s->group, NULL) == NFV_OK);
    FUZZ_CHECK(!s->disk || fuzz_is_markup_free(s->disk));
    FUZZ_CHECK(s->n_nics == 0 || s->nics);
    for (size_t i = 0; i < s->n_nics; i++) {
        FUZZ_CHECK(s->nics[i].kind < VM_NIC__COUNT);
        FUZZ_CHECK(fuzz_is_markup_free(s->nics[i].arg));
    }
}

/* The first node matching @path (element names, '/'-separated, from the root). */
static xmlNodePtr fuzz_find(xmlNodePtr n, const char *path)
{
    size_t len = strcspn(path, "/");

    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strlen((const char *)n->name) != len ||
            strncmp((const char *)n->name, path, len) != 0)
            continue;
        return path[len] ? fuzz_find(n->children, path + len + 1) : n;
    }
    return NULL;
}

static void fuzz_check_attr(xmlNodePtr n, const char *attr, const char *want)
{
    xmlChar *v;

    FUZZ_CHECK(n);
    v = xmlGetProp(n, BAD_CAST attr);
    FUZZ_CHECK(v && strcmp((const char *)v, want) == 0);
    xmlFree(v);
}

static void fuzz_build(const struct vm_spec *s, size_t size)
{
    static const char *const source_attr[VM_NIC__COUNT] = {"bridge", "network", "path", "bridge"};
    const struct fuzz_host *h = fuzz_host_get();
    struct pin_plan *plan = pin_plan_new(s->req->n_vcpus);
    struct nfv_err err = {0};
    char *xml = NULL;
    xmlDocPtr doc;
    xmlNodePtr root, n;
    size_t i_nic = 0;

    FUZZ_CHECK(plan);
    /* vmmgr networks get their VLAN from vmmgrd's table: any 1..4094 */
    struct vm_nic *nics = s->n_nics ? calloc(s->n_nics, sizeof(*nics)) : NULL;
    FUZZ_CHECK(!s->n_nics || nics);
    for (size_t i = 0; i < s->n_nics; i++) {
        nics[i] = s->nics[i];
        if (nics[i].kind == VM_NIC_NET)
            nics[i].vlan = 1 + (unsigned)(i % 4094);
    }
    struct vm_domxml_in in = {
        .type = (enum vm_domxml_type)(size % VM_DOMXML__COUNT),
        .name = s->name,
        .uuid = "00000000-0000-4000-8000-000000000001",
        .role = s->role,
        .group = s->group,
        .memory_mib = s->memory_mib,
        .topo = h->topo,
        .plan = pin_plan_compute(h->alloc, s->req, plan, NULL) == NFV_OK ? plan : h->fallback,
        .disk = s->disk,
        .nics = nics,
        .n_nics = s->n_nics,
        .nic_bridge = "br-int",
    };
    if (vm_domxml_build(&in, &xml, &err) != NFV_OK) {
        fprintf(stderr, "build refused an accepted spec: %s\n", err.msg);
        FUZZ_CHECK(!"an accepted spec builds");
    }
    doc = xmlReadMemory(xml, (int)strlen(xml), "d.xml", "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    FUZZ_CHECK(doc);
    root = xmlDocGetRootElement(doc);
    FUZZ_CHECK(root && strcmp((const char *)root->name, "domain") == 0);
    n = fuzz_find(root->children, "name");
    FUZZ_CHECK(n);
    xmlChar *name = xmlNodeGetContent(n);
    FUZZ_CHECK(name && strcmp((const char *)name, s->name) == 0);
    xmlFree(name);
    fuzz_check_attr(fuzz_find(root->children, "metadata/vm"), "group", s->group ? s->group : "");
    if (s->disk)
        fuzz_check_attr(fuzz_find(root->children, "devices/disk/source"), "file", s->disk);
    n = fuzz_find(root->children, "devices");
    for (n = n ? n->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "interface") != 0)
            continue;
        FUZZ_CHECK(i_nic < s->n_nics);
        fuzz_check_attr(fuzz_find(n->children, "source"), source_attr[s->nics[i_nic].kind],
                        s->nics[i_nic].kind == VM_NIC_NET ? "br-int" : s->nics[i_nic].arg);
        i_nic++;
    }
    FUZZ_CHECK(i_nic == s->n_nics);
    xmlFreeDoc(doc);
    free(xml);
    free(nics);
    pin_plan_free(plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nfv_err err = {0};
    json_t *body = NULL;
    struct vm_spec s;

    if (size > 65536)
        return 0;
    if (vm_req_parse_object((const char *)data, size, &body, &err) != NFV_OK) {
        FUZZ_CHECK(err.code != NFV_OK && err.msg[0]);
        return 0;
    }
    if (vm_spec_parse(body, vm_spec_vm_fields, &s, &err) == NFV_OK) {
        fuzz_check_spec(&s);
        const char *mode = json_string_value(json_object_get(body, "cpu_mode"));
        FUZZ_CHECK(s.is_dry_run == json_is_true(json_object_get(body, "dry_run")));
        FUZZ_CHECK(!mode || strcmp(mode, "numbered") != 0 || s.host); /* numbered needs host */
        fuzz_build(&s, size);
    } else {
        fuzz_check_refusal(&err, &s);
    }
    vm_spec_clear(&s);

    if (vm_spec_parse(body, vm_spec_member_fields, &s, &err) == NFV_OK) {
        fuzz_check_spec(&s);
        FUZZ_CHECK(!json_object_get(body, "group") && !json_object_get(body, "dry_run") &&
                   !json_object_get(body, "ignore_reserve"));
        FUZZ_CHECK(!s.group && !s.is_dry_run && !s.is_reserve_ignored);
    } else {
        fuzz_check_refusal(&err, &s);
    }
    vm_spec_clear(&s);
    json_decref(body);
    return 0;
}
