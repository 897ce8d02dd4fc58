/* SPDX-License-Identifier: Apache-2.0 */
/* shield token verify: check an attestation token (JWT) against a JWKS, as a relying party does. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "shield/token.h"
#include "shield/util.h"

/* The same caps the library applies; reading more would only fail later. */
#define TOKEN_FILE_MAX (64 * 1024)
#define JWKS_FILE_MAX (1024 * 1024)

static const char usage_family[] =
        "Usage: shield token COMMAND [OPTIONS]\n"
        "\n"
        "Attestation tokens: the JWTs shieldd issues (ES256 or RS256, the signing\n"
        "key named by the header's kid, public keys published as a JWKS).\n"
        "\n"
        "Commands:\n"
        "  verify     check a token's signature, algorithm and validity period\n"
        "\n"
        "Run 'shield token COMMAND --help' for details.\n";

static const char usage_verify[] =
        "Usage: shield token verify --jwks FILE [--audience AUD] [--issuer ISS] [--json] JWT\n"
        "\n"
        "Verify an attestation token as a relying party: the header's alg must be\n"
        "ES256 or RS256 (\"none\" and HS256 are refused), its kid must name a key in\n"
        "the JWKS, the signature must verify with that key, and the token must have\n"
        "an exp that has not passed and no nbf in the future (60 s leeway each).\n"
        "JWT is the token itself, or - to read it from stdin (keeps it out of the\n"
        "process list). The JWKS is a file (what shieldd serves at /jwks); nothing\n"
        "is fetched from the network.\n"
        "\n"
        "Options:\n"
        "  --jwks FILE        the issuer's public keys, a JWKS document (- for stdin)\n"
        "  --audience AUD     also require the aud claim to be or contain AUD\n"
        "  --issuer ISS       also require the iss claim to be ISS\n"
        "  --json             {\"valid\", \"claims\"} or {\"valid\": false, \"reason\"}\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 valid, 1 invalid (signature, alg, kid, time, aud, iss),\n"
        "2 malformed token or JWKS, unreadable file, or bad usage.\n"
        "\n"
        "Example:\n"
        "  curl -s https://shieldd.example/jwks >jwks.json\n"
        "  shield token verify --jwks jwks.json --audience my-service \"$TOKEN\"\n";

/* Whether claim aud (a string or an array of strings, RFC 7519 4.1.3) names want. */
static bool aud_contains(json_t *aud, const char *want) {
        size_t i;
        json_t *v;

        if (json_is_string(aud))
                return strcmp(json_string_value(aud), want) == 0;
        json_array_foreach(aud, i, v)
                if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
                        return true;
        return false;
}

static int invalid(bool json, const char *reason) {
        if (json) {
                json_t *o = json_object();
                json_object_set_new(o, "valid", json_false());
                json_object_set_new(o, "reason", json_string(reason));
                cli_print_json(o);
        }
        cli_error("token invalid: %s", reason);
        return EXIT_VERIFY_FAILED;
}

/* The token from stdin: one line, surrounding whitespace dropped. */
static int read_token_stdin(char **ret) {
        uint8_t *buf = NULL;
        size_t len = 0, start = 0;

        if (cli_read_file("-", TOKEN_FILE_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        while (start < len && strchr(" \t\r\n", buf[start]))
                start++;
        while (len > start && strchr(" \t\r\n", buf[len - 1]))
                len--;
        memmove(buf, buf + start, len - start);
        buf[len - start] = '\0';
        *ret = (char *)buf;
        return 0;
}

static int verb_verify(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },          { "jwks", required_argument, NULL, 'k' },
                { "audience", required_argument, NULL, 'a' }, { "issuer", required_argument, NULL, 'i' },
                { "json", no_argument, NULL, 'j' },           {},
        };
        const char *jwks_path = NULL, *audience = NULL, *issuer = NULL, *token_arg;
        struct shield_diag diag = { .index = -1 };
        uint8_t *jwks = NULL;
        size_t jwks_len = 0;
        char *token_buf = NULL, *claims_text = NULL;
        json_t *claims = NULL;
        bool json = false;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_verify, stdout); return EXIT_OK;
                case 'k': jwks_path = optarg; break;
                case 'a': audience = optarg; break;
                case 'i': issuer = optarg; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!jwks_path)
                return cli_usage_error(usage_verify, "verify: --jwks FILE is required");
        if (optind != argc - 1)
                return cli_usage_error(usage_verify, "verify: expected exactly one JWT (or - for stdin)");
        token_arg = argv[optind];
        if (strcmp(token_arg, "-") == 0 && strcmp(jwks_path, "-") == 0)
                return cli_usage_error(usage_verify, "verify: the JWT and the JWKS cannot both come from stdin");

        r = EXIT_BAD_INPUT;
        if (strcmp(token_arg, "-") == 0) {
                if (read_token_stdin(&token_buf) != 0)
                        goto out;
                token_arg = token_buf;
        }
        if (cli_read_file(jwks_path, JWKS_FILE_MAX, &jwks, &jwks_len) != 0)
                goto out;
        if (strlen((const char *)jwks) != jwks_len) {
                cli_error("%s: a JWKS is JSON text; this file holds a NUL byte", jwks_path);
                goto out;
        }

        int v = shield_token_verify(token_arg, (const char *)jwks, (int64_t)time(NULL), &claims_text, &diag);
        if (v == SHIELD_E_VERIFY) {
                r = invalid(json, diag.msg);
                goto out;
        }
        if (v < 0) {
                /* Malformed JWKS messages say "JWKS: …"; everything else is about the token. */
                if (strncmp(diag.msg, "JWKS", 4) == 0)
                        cli_error("%s: %s: %s", jwks_path, shield_strerror(v), diag.msg);
                else if (diag.msg[0])
                        cli_error("token: %s: offset %zu: %s", shield_strerror(v), diag.offset, diag.msg);
                else
                        cli_error("token: %s", shield_strerror(v));
                goto out;
        }
        claims = json_loads(claims_text, 0, NULL);
        if (!claims) {
                cli_error("out of memory");
                goto out;
        }
        if (issuer) {
                json_t *iss = json_object_get(claims, "iss");
                if (!json_is_string(iss) || strcmp(json_string_value(iss), issuer) != 0) {
                        char why[SHIELD_DIAG_MSG_MAX];
                        snprintf(why, sizeof why, "iss is %.100s, expected %.100s",
                                 json_is_string(iss) ? json_string_value(iss) : "missing", issuer);
                        r = invalid(json, why);
                        goto out;
                }
        }
        if (audience && !aud_contains(json_object_get(claims, "aud"), audience)) {
                char why[SHIELD_DIAG_MSG_MAX];
                snprintf(why, sizeof why, "aud does not name %.100s", audience);
                r = invalid(json, why);
                goto out;
        }
        if (json) {
                json_t *o = json_object();
                json_object_set_new(o, "valid", json_true());
                json_object_set(o, "claims", claims);
                cli_print_json(o);
        } else {
                const char *key;
                json_t *val;
                printf("Token valid\n");
                json_object_foreach(claims, key, val) {
                        char *s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
                        printf("  %s: %s\n", key, s ? s : "?");
                        free(s);
                }
        }
        r = EXIT_OK;
out:
        json_decref(claims);
        free(claims_text);
        free(token_buf);
        free(jwks);
        return r;
}

int cmd_token(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "verify", "check a token against a JWKS", verb_verify },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
