/*
 * shim_image.c - a Glance v2 subset (/image) over the operator's images
 * file: the version document, image list (?name=) and show. Read-only:
 * images are vmmgr disk images or templates the operator names; a caller
 * can choose one but never name a path.
 */
#include "shim_priv.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const struct shim_image *shim_image_find(const struct shim_ctx *ctx, const char *id_or_name)
{
    for (size_t i = 0; i < ctx->n_images; i++)
        if (strcmp(ctx->images[i].id, id_or_name) == 0)
            return &ctx->images[i];
    return NULL;
}

static json_t *image_view(const struct shim_ctx *ctx, const struct shim_image *im)
{
    char self[128], file[160], owner[33];
    const char *ext = strrchr(im->path, '.');
    struct stat st;
    json_int_t size = 0;

    if (im->path[0] && stat(im->path, &st) == 0)
        size = (json_int_t)st.st_size;
    snprintf(self, sizeof(self), "/v2/images/%s", im->id);
    snprintf(file, sizeof(file), "/v2/images/%s/file", im->id);
    shim_id_from_name("project", "vmmgr", false, owner, sizeof(owner));
    (void)ctx;
    return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:s,s:I,s:n,s:i,s:i,s:n,s:n,s:n,s:s,s:s,s:s,"
                     "s:[],s:s,s:s,s:s}",
                     "id", im->id, "name", im->name, "status", "active", "visibility", "public",
                     "protected", 0, "os_hidden", 0, "disk_format",
                     ext && strcmp(ext, ".qcow2") == 0 ? "qcow2" : "raw", "container_format",
                     "bare", "size", size, "virtual_size", "min_disk", 0, "min_ram", 0, "checksum",
                     "os_hash_algo", "os_hash_value", "owner", owner, "created_at",
                     "2026-01-01T00:00:00Z", "updated_at", "2026-01-01T00:00:00Z", "tags", "self",
                     self, "file", file, "schema", "/v2/schemas/image");
}

static void versions(const struct shim_ctx *ctx, struct shim_resp *resp)
{
    char href[SHIM_PATH_MAX + 32];

    snprintf(href, sizeof(href), "%s/image/v2/", ctx->base_url);
    shim_resp_json(resp, 300,
                   json_pack("{s:[{s:s,s:s,s:[{s:s,s:s}]}]}", "versions", "id", "v2.9", "status",
                             "CURRENT", "links", "rel", "self", "href", href));
}

static void not_found(struct shim_resp *resp, const char *what)
{
    shim_resp_json(resp, 404,
                   json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 404, "title", "Not Found",
                             "message", what));
}

void shim_image_route(struct shim_ctx *ctx, struct shim_req *req, struct shim_resp *resp,
                      char **seg, size_t n)
{
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        shim_resp_json(resp, 405,
                       json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 405, "title",
                                 "Method Not Allowed", "message",
                                 "vmmgr-shim's image service is read-only: images come from "
                                 "the shim's images file"));
        return;
    }
    if (n == 0 || (n == 1 && strcmp(seg[0], "versions") == 0)) {
        versions(ctx, resp);
        return;
    }
    if (strcmp(seg[0], "v2") != 0) {
        not_found(resp, "The resource could not be found.");
        return;
    }
    if (!shim_token_check(ctx, req)) {
        shim_unauthorized(ctx, resp);
        return;
    }
    if (n == 2 && strcmp(seg[1], "images") == 0) {
        const char *name = req->arg(req->h, "name");
        const char *id = req->arg(req->h, "id");
        json_t *arr = json_array();
        for (size_t i = 0; i < ctx->n_images; i++) {
            if (name && strcmp(name, ctx->images[i].name) != 0)
                continue;
            if (id && strcmp(id, ctx->images[i].id) != 0)
                continue;
            json_array_append_new(arr, image_view(ctx, &ctx->images[i]));
        }
        shim_resp_json(resp, 200,
                       json_pack("{s:o,s:s,s:s}", "images", arr, "first", "/v2/images", "schema",
                                 "/v2/schemas/images"));
        return;
    }
    if (n == 3 && strcmp(seg[1], "images") == 0) {
        const struct shim_image *im = shim_image_find(ctx, seg[2]);
        if (im)
            shim_resp_json(resp, 200, image_view(ctx, im));
        else
            not_found(resp, "No image found with that ID.");
        return;
    }
    not_found(resp, "The resource could not be found.");
}
