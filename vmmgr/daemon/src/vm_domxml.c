/*
 * vm_domxml.c - the domain XML builder (see vm_domxml.h).
 *
 * Written with libxml2's xmlTextWriter: names and values go through
 * xmlTextWriterWriteAttribute/WriteString, which escape <, >, & and ", so no
 * input can add markup. What escaping cannot fix (a control character,
 * invalid UTF-8: not XML 1.0 at all) is refused up front. Attributes use
 * double quotes: libxml2 2.9 does not escape ' inside attribute values, so
 * the writer's single-quote mode would not be safe.
 *
 * Pinning renders its part as text (pin_libvirt_render). That text is parsed
 * back with libxml2 (no network, no entities) inside a wrapper element and
 * replayed node by node through the writer, so the result is well-formed
 * even if the renderer ever were not; its <memoryBacking> is merged with the
 * vhost-user one, because libvirt reads only the first of two.
 *
 * Errors of the writer are sticky (struct xw), the pattern of pinning's
 * string buffer: the builder writes straight through and checks once.
 */
#include "vm/vm_domxml.h"

#include <libxml/chvalid.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin/pin_libvirt.h"

static const char *const type_names[VM_DOMXML__COUNT] = {
    [VM_DOMXML_KVM] = "kvm",
    [VM_DOMXML_QEMU] = "qemu",
    [VM_DOMXML_TEST] = "test",
};

const char *vm_domxml_type_to_string(enum vm_domxml_type t)
{
    return (unsigned)t < VM_DOMXML__COUNT ? type_names[t] : "?";
}

enum vm_domxml_type vm_domxml_type_from_string(const char *s)
{
    for (unsigned t = 0; s && t < VM_DOMXML__COUNT; t++)
        if (strcmp(s, type_names[t]) == 0)
            return (enum vm_domxml_type)t;
    return VM_DOMXML__COUNT;
}

bool vm_domxml_uuid_is_valid(const char *s)
{
    static const char hex[] = "0123456789abcdefABCDEF";

    if (!s || strlen(s) != VM_UUID_STRING_LEN)
        return false;
    for (unsigned i = 0; i < VM_UUID_STRING_LEN; i++) {
        bool is_dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
        if (is_dash_pos ? s[i] != '-' : !strchr(hex, s[i]) || !s[i])
            return false;
    }
    return true;
}

/* @s is UTF-8 made of XML 1.0 characters only, and no control character
 * (not even tab or newline: none belongs in a name, path or bridge). */
static bool is_xml_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int len = 4;
        int c = xmlGetUTF8Char(p, &len);
        if (c < 0x20 || !xmlIsCharQ(c))
            return false;
        p += len;
    }
    return true;
}

static enum nfv_code check_text(const char *field, const char *s, struct nfv_err *err)
{
    if (s && !is_xml_text(s))
        return NFV_ERR(err, NFV_E_INVAL,
                       "'%s': has a control character or is not UTF-8 (cannot be written in XML)",
                       field);
    return NFV_OK;
}

static enum nfv_code check_input(const struct vm_domxml_in *in, struct nfv_err *err)
{
    char field[32];

    if ((unsigned)in->type >= VM_DOMXML__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'type': %d is not kvm, qemu or test", (int)in->type);
    if (!in->name || !*in->name)
        return NFV_ERR(err, NFV_E_INVAL, "'name': is required");
    if (in->uuid && !vm_domxml_uuid_is_valid(in->uuid))
        return NFV_ERR(err, NFV_E_INVAL, "'uuid': '%s' is not a UUID", in->uuid);
    if (in->memory_mib == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'memory_mib': must be above 0");
    if (!in->topo || !in->plan)
        return NFV_ERR(err, NFV_E_INVAL, "'plan': a pin plan and its topology are required");
    if ((unsigned)in->role >= VM_ROLE__COUNT)
        return NFV_ERR(err, NFV_E_INVAL, "'role': %d is not a role", (int)in->role);
    if (check_text("name", in->name, err) || check_text("group", in->group, err) ||
        check_text("disk", in->disk, err))
        return NFV_E_INVAL;
    if (in->disk && !*in->disk)
        return NFV_ERR(err, NFV_E_INVAL, "'disk': must not be empty");
    if (in->n_nics && !in->nics)
        return NFV_ERR(err, NFV_E_INVAL, "'nics': %zu NICs but no list", in->n_nics);
    for (size_t i = 0; i < in->n_nics; i++) {
        snprintf(field, sizeof(field), "nics[%zu]", i);
        if ((unsigned)in->nics[i].kind >= VM_NIC__COUNT || !in->nics[i].arg || !*in->nics[i].arg)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': needs a kind and a name or path", field);
        if (check_text(field, in->nics[i].arg, err))
            return NFV_E_INVAL;
        if (in->nics[i].kind != VM_NIC_NET)
            continue;
        if (in->nics[i].vlan < 1 || in->nics[i].vlan > 4094)
            return NFV_ERR(err, NFV_E_INVAL, "'%s.vlan': %u is not a VLAN id (1..4094)", field,
                           in->nics[i].vlan);
        if (!in->nic_bridge || !*in->nic_bridge)
            return NFV_ERR(err, NFV_E_INVAL, "'bridge': network NICs need the host's bridge");
        if (check_text("bridge", in->nic_bridge, err))
            return NFV_E_INVAL;
    }
    return NFV_OK;
}

/* ---- the writer, with a sticky error ---- */

struct xw {
    xmlTextWriterPtr w;
    bool is_failed;
};

static void xw_start(struct xw *x, const char *name)
{
    if (!x->is_failed && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
        x->is_failed = true;
}

static void xw_end(struct xw *x)
{
    if (!x->is_failed && xmlTextWriterEndElement(x->w) < 0)
        x->is_failed = true;
}

static void xw_attr(struct xw *x, const char *name, const char *value)
{
    if (!x->is_failed && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->is_failed = true;
}

static void xw_text(struct xw *x, const char *text)
{
    if (!x->is_failed && xmlTextWriterWriteString(x->w, BAD_CAST text) < 0)
        x->is_failed = true;
}

/* <name attr="value"/> (attr may be NULL: <name/>). */
static void xw_empty(struct xw *x, const char *name, const char *attr, const char *value)
{
    xw_start(x, name);
    if (attr)
        xw_attr(x, attr, value);
    xw_end(x);
}

/* <name>text</name> */
static void xw_elem(struct xw *x, const char *name, const char *text)
{
    xw_start(x, name);
    xw_text(x, text);
    xw_end(x);
}

/* Replays a parsed element (attributes, text and child elements; pinning's
 * fragments hold nothing else) through the writer. */
static void xw_copy(struct xw *x, const xmlNode *n)
{
    xw_start(x, (const char *)n->name);
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        /* no children: an empty value, a="" */
        xmlChar *v = a->children ? xmlNodeListGetString(n->doc, a->children, 1) : NULL;
        if (a->children && !v) {
            x->is_failed = true;
            return;
        }
        xw_attr(x, (const char *)a->name, v ? (const char *)v : "");
        xmlFree(v);
    }
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            xw_copy(x, c);
        else if (c->type == XML_TEXT_NODE && c->content)
            xw_text(x, (const char *)c->content);
    }
    xw_end(x);
}

/* ---- the document ---- */

static bool has_vhostuser(const struct vm_domxml_in *in)
{
    for (size_t i = 0; i < in->n_nics; i++)
        if (in->nics[i].kind == VM_NIC_VHOSTUSER)
            return true;
    return false;
}

/* Pinning's fragments, then the one <memoryBacking>: the plan's hugepages
 * (from the fragment) and, for vhost-user, guest memory the switch can map
 * (a shared memfd; not yet exercised against a real vhost-user backend). */
static void write_pinning(struct xw *x, const xmlNode *frag_root, const struct vm_domxml_in *in)
{
    const xmlNode *membacking = NULL;
    bool is_shared = has_vhostuser(in);

    for (const xmlNode *n = frag_root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "memoryBacking") == 0)
            membacking = n;
        else
            xw_copy(x, n);
    }
    if (!membacking && !is_shared)
        return;
    xw_start(x, "memoryBacking");
    for (const xmlNode *n = membacking ? membacking->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            xw_copy(x, n);
    if (is_shared) {
        xw_empty(x, "source", "type", "memfd");
        xw_empty(x, "access", "mode", "shared");
    }
    xw_end(x);
}

/* A vmmgr network NIC: an access port with the network's VLAN on the host's
 * Open vSwitch bridge (libvirt adds the tap port with the tag). */
static void write_net_nic(struct xw *x, const struct vm_nic *nic, const char *bridge)
{
    char tag[16];

    snprintf(tag, sizeof(tag), "%u", nic->vlan);
    xw_start(x, "interface");
    xw_attr(x, "type", "bridge");
    xw_empty(x, "source", "bridge", bridge);
    xw_empty(x, "virtualport", "type", "openvswitch");
    xw_start(x, "vlan");
    xw_empty(x, "tag", "id", tag);
    xw_end(x);
    xw_empty(x, "model", "type", "virtio");
    xw_end(x);
}

static void write_devices(struct xw *x, const struct vm_domxml_in *in)
{
    static const char *const source_attr[VM_NIC__COUNT] = {
        [VM_NIC_BRIDGE] = "bridge",
        [VM_NIC_NETWORK] = "network",
        [VM_NIC_VHOSTUSER] = "path",
        [VM_NIC_NET] = "bridge",
    };

    xw_start(x, "devices");
    if (in->disk) {
        size_t len = strlen(in->disk);
        bool is_qcow = len > 6 && strcmp(in->disk + len - 6, ".qcow2") == 0;
        xw_start(x, "disk");
        xw_attr(x, "type", "file");
        xw_attr(x, "device", "disk");
        xw_start(x, "driver");
        xw_attr(x, "name", "qemu");
        xw_attr(x, "type", is_qcow ? "qcow2" : "raw");
        xw_end(x);
        xw_empty(x, "source", "file", in->disk);
        xw_start(x, "target");
        xw_attr(x, "dev", "vda");
        xw_attr(x, "bus", "virtio");
        xw_end(x);
        xw_end(x);
    }
    for (size_t i = 0; i < in->n_nics; i++) {
        const struct vm_nic *nic = &in->nics[i];
        if (nic->kind == VM_NIC_NET) {
            write_net_nic(x, nic, in->nic_bridge);
            continue;
        }
        xw_start(x, "interface");
        xw_attr(x, "type", vm_nic_kind_to_string(nic->kind));
        xw_start(x, "source");
        if (nic->kind == VM_NIC_VHOSTUSER) {
            xw_attr(x, "type", "unix");
            xw_attr(x, "path", nic->arg);
            xw_attr(x, "mode", "server");
        } else {
            xw_attr(x, source_attr[nic->kind], nic->arg);
        }
        xw_end(x);
        xw_empty(x, "model", "type", "virtio");
        xw_end(x);
    }
    if (in->type != VM_DOMXML_TEST) {
        xw_empty(x, "console", "type", "pty");
        xw_empty(x, "memballoon", "model", "none");
    }
    xw_end(x);
}

static void write_domain(struct xw *x, const xmlNode *frag_root, const struct vm_domxml_in *in)
{
    char num[32];

    xw_start(x, "domain");
    xw_attr(x, "type", vm_domxml_type_to_string(in->type));
    xw_elem(x, "name", in->name);
    if (in->uuid)
        xw_elem(x, "uuid", in->uuid);
    xw_start(x, "metadata");
    if (!x->is_failed && xmlTextWriterStartElementNS(x->w, BAD_CAST "vmmgr", BAD_CAST "vm",
                                                     BAD_CAST "urn:vmmgr:vm:1") < 0)
        x->is_failed = true;
    xw_attr(x, "role", vm_role_to_string(in->role));
    xw_attr(x, "group", in->group ? in->group : "");
    xw_end(x);
    xw_end(x);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)in->memory_mib);
    xw_start(x, "memory");
    xw_attr(x, "unit", "MiB");
    xw_text(x, num);
    xw_end(x);
    write_pinning(x, frag_root, in);
    xw_start(x, "os");
    xw_start(x, "type");
    xw_attr(x, "arch", "x86_64");
    xw_text(x, "hvm");
    xw_end(x);
    xw_empty(x, "boot", "dev", "hd");
    xw_end(x);
    xw_start(x, "features");
    xw_empty(x, "acpi", NULL, NULL);
    xw_end(x);
    xw_elem(x, "on_poweroff", "destroy");
    xw_elem(x, "on_reboot", "restart");
    xw_elem(x, "on_crash", "restart");
    write_devices(x, in);
    xw_end(x);
}

/* Pinning's text as a document <f>...</f>; NULL if it is not well-formed. */
static xmlDocPtr parse_fragment(const char *frag)
{
    static const char open[] = "<f>", close[] = "</f>";
    size_t len = strlen(frag), total = sizeof(open) - 1 + len + sizeof(close) - 1;
    char *wrapped;
    xmlDocPtr doc;

    if (total > INT32_MAX || !(wrapped = malloc(total + 1)))
        return NULL;
    memcpy(wrapped, open, sizeof(open) - 1);
    memcpy(wrapped + sizeof(open) - 1, frag, len);
    memcpy(wrapped + sizeof(open) - 1 + len, close, sizeof(close));
    doc = xmlReadMemory(wrapped, (int)total, "pinning-fragment.xml", "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    free(wrapped);
    return doc;
}

void vm_domxml_global_init(void)
{
    xmlInitParser();
}

enum nfv_code vm_domxml_build(const struct vm_domxml_in *in, char **ret_xml, struct nfv_err *err)
{
    char *frag = NULL, *xml = NULL;
    xmlDocPtr frag_doc = NULL;
    xmlBufferPtr buf = NULL;
    struct xw x = {0};
    enum nfv_code code;

    if ((code = check_input(in, err)) != NFV_OK)
        return code;
    vm_domxml_global_init(); /* a no-op once done; see vm_domxml.h */
    if ((code = pin_libvirt_render(in->topo, in->plan, PIN_LV_ALL, &frag, err)) != NFV_OK)
        goto cleanup;
    frag_doc = parse_fragment(frag);
    if (!frag_doc || !xmlDocGetRootElement(frag_doc)) {
        code = NFV_ERR(err, NFV_E_INTERNAL, "'plan': pinning's XML fragment is not well-formed");
        goto cleanup;
    }
    buf = xmlBufferCreate();
    x.w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!x.w || xmlTextWriterSetIndent(x.w, 1) < 0 ||
        xmlTextWriterSetIndentString(x.w, BAD_CAST "  ") < 0) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto cleanup;
    }
    write_domain(&x, xmlDocGetRootElement(frag_doc), in);
    if (x.is_failed || xmlTextWriterEndDocument(x.w) < 0) {
        code = NFV_ERR(err, NFV_E_NOMEM, "domain XML: the writer failed (out of memory)");
        goto cleanup;
    }
    xmlFreeTextWriter(x.w); /* flushes into buf */
    x.w = NULL;
    xml = strdup((const char *)xmlBufferContent(buf));
    if (!xml) {
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
        goto cleanup;
    }
    *ret_xml = xml;
    code = NFV_OK;
cleanup:
    if (x.w)
        xmlFreeTextWriter(x.w);
    if (buf)
        xmlBufferFree(buf);
    xmlFreeDoc(frag_doc);
    free(frag);
    return code;
}
