/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator's side of shieldd (shield/agent.h, "Operators"): admin calls
 * with the bearer token, for the CLI's --server verbs. The token is read
 * from its file once, kept in memory only while the client lives, and
 * wiped on free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/http.h"
#include "shield/agent.h"
#include "shield/util.h"

struct shield_operator {
        struct agent_http *http;
        char *token;
};

void shield_operator_free(struct shield_operator *o) {
        if (!o)
                return;
        agent_http_free(o->http);
        if (o->token) {
                explicit_bzero(o->token, strlen(o->token));
                free(o->token);
        }
        free(o);
}

int shield_operator_new(const char *server, const char *cacert, const char *token_file, struct shield_operator **ret,
                        struct shield_agent_error *err) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "the server URL must start with https:// or http://");
                return SHIELD_E_INVAL;
        }
        struct shield_operator *o = calloc(1, sizeof *o);
        if (!o) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "out of memory");
                return SHIELD_E_NOMEM;
        }
        if (token_file) {
                int r = shield_read_file(token_file, 4096, &buf, &len);
                if (r < 0) {
                        agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "%s: %s", token_file,
                                   r == SHIELD_E_SYSTEM ? strerror(errno) : shield_strerror(r));
                        shield_operator_free(o);
                        return r;
                }
                while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
                        len--;
                if (!len || memchr(buf, '\0', len) || !(o->token = strndup((const char *)buf, len))) {
                        explicit_bzero(buf, len);
                        free(buf);
                        agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "%s: not an admin token", token_file);
                        shield_operator_free(o);
                        return SHIELD_E_FORMAT;
                }
                explicit_bzero(buf, len);
                free(buf);
        }
        struct shield_agent_options ao = { .server = server, .cacert = cacert };
        char *base = strdup(server);
        if (!base) {
                shield_operator_free(o);
                return SHIELD_E_NOMEM;
        }
        for (size_t k = strlen(base); k > 0 && base[k - 1] == '/'; k--)
                base[k - 1] = '\0';
        int r = agent_http_new(base, &ao, &o->http, err);
        free(base);
        if (r < 0) {
                shield_operator_free(o);
                return r;
        }
        *ret = o;
        return 0;
}

int shield_operator_call(struct shield_operator *o, const char *method, const char *path, const char *body_json,
                         int *ret_status, char **ret_json, struct shield_agent_error *err) {
        json_t *body = NULL, *answer = NULL;
        if (body_json && !(body = json_loads(body_json, 0, NULL))) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "the request body is not JSON");
                return SHIELD_E_INVAL;
        }
        int status = 0;
        int r = agent_http_call(o->http, method, path, body, o->token, &status, &answer, err);
        json_decref(body);
        if (r < 0)
                return r;
        char *text = answer ? json_dumps(answer, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : strdup("");
        json_decref(answer);
        if (!text) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "out of memory");
                return SHIELD_E_NOMEM;
        }
        if (ret_status)
                *ret_status = status;
        *ret_json = text;
        return 0;
}

char *shield_operator_escape(struct shield_operator *o, const char *segment) {
        return agent_http_escape(o->http, segment);
}
