/*
 * test_vm_domxml_libvirt.c - libvirt accepts every golden domain XML.
 *
 * For each XML file of tests/data/vmmgr/domxml/ (written by test_vm_domxml.c):
 *  - libvirt's own RelaxNG schema (domain.rng, shipped with libvirt0) must
 *    validate it, whatever its domain type;
 *  - libvirt's in-process test driver (test:///default, no daemon) must
 *    define it. That driver only knows type 'test', so kvm and qemu
 *    documents are defined with the type changed: the schema check above is
 *    the one that covers them as written.
 * Exits 77 (skipped) when the golden directory or the schema is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCHEMA "/usr/share/libvirt/schemas/domain.rng"

static char golden_dir[1024];
static xmlRelaxNGPtr schema;

static void ignore_libvirt_errors(void *data, virErrorPtr e)
{
    (void)data;
    (void)e;
}

static void check_file(const char *file)
{
    char path[2048];
    xmlDocPtr doc;
    xmlRelaxNGValidCtxtPtr vctx;
    xmlNodePtr root;
    xmlChar *text = NULL;
    int size = 0;
    virConnectPtr conn;
    virDomainPtr dom;

    snprintf(path, sizeof(path), "%s/%s", golden_dir, file);
    doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    if (!doc)
        fail_msg("%s: not well-formed", file);

    vctx = xmlRelaxNGNewValidCtxt(schema);
    assert_non_null(vctx);
    if (xmlRelaxNGValidateDoc(vctx, doc) != 0)
        fail_msg("%s: libvirt's schema %s refuses it (libxml2's messages above)", file, SCHEMA);
    xmlRelaxNGFreeValidCtxt(vctx);

    root = xmlDocGetRootElement(doc);
    xmlSetProp(root, BAD_CAST "type", BAD_CAST "test");
    xmlDocDumpMemory(doc, &text, &size);
    assert_non_null(text);
    conn = virConnectOpen("test:///default");
    assert_non_null(conn);
    dom = virDomainDefineXML(conn, (const char *)text);
    if (!dom)
        fail_msg("%s: libvirt's test driver refused it: %s\n%s", file, virGetLastErrorMessage(),
                 (const char *)text);
    virDomainUndefine(dom);
    virDomainFree(dom);
    virConnectClose(conn);
    xmlFree(text);
    xmlFreeDoc(doc);
}

static void test_golden_file(void **state)
{
    check_file(*state);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_xml(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcmp(e->d_name + n - 4, ".xml") == 0;
}

int main(void)
{
    const char *src = getenv("VMMGR_SOURCE_DIR");
    struct dirent **files = NULL;
    struct CMUnitTest *tests;
    xmlRelaxNGParserCtxtPtr pctx;
    int n, rc;

    snprintf(golden_dir, sizeof(golden_dir), "%s/tests/data/vmmgr/domxml", src ? src : ".");
    n = scandir(golden_dir, &files, is_xml, by_name);
    if (n <= 0) {
        printf("skipped: no golden files in %s\n", golden_dir);
        return 77;
    }
    if (access(SCHEMA, R_OK) != 0) {
        printf("skipped: libvirt's schema %s is not installed\n", SCHEMA);
        return 77;
    }
    pctx = xmlRelaxNGNewParserCtxt(SCHEMA);
    schema = pctx ? xmlRelaxNGParse(pctx) : NULL;
    xmlRelaxNGFreeParserCtxt(pctx);
    if (!schema) {
        printf("FAIL: cannot load libvirt's schema %s\n", SCHEMA);
        return 1;
    }
    virSetErrorFunc(NULL, ignore_libvirt_errors);
    tests = calloc((size_t)n, sizeof(*tests));
    assert_non_null(tests);
    for (int i = 0; i < n; i++) {
        tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate(test_golden_file, files[i]->d_name);
        tests[i].name = files[i]->d_name;
    }
    rc = _cmocka_run_group_tests("vm_domxml_libvirt", tests, (size_t)n, NULL, NULL);
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
    free(tests);
    xmlRelaxNGFree(schema);
    return rc;
}
