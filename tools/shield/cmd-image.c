/* SPDX-License-Identifier: Apache-2.0 */
/* shield image create|check|register|list|show|delete */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "platform-cli.h"
#include "shield/crypto.h"
#include "shield/disk.h"
#include "shield/image.h"
#include "shield/pe.h"
#include "shield/secureboot.h"
#include "shield/util.h"
#include "shield/vm.h"

static const char usage_family[] =
        "Usage: shield image COMMAND [OPTIONS]\n"
        "\n"
        "Custom shielded images: a GPT disk with a FAT EFI System Partition and\n"
        "the bootloader at \\EFI\\Boot\\bootx64.efi, registered with the Secure Boot\n"
        "keys (PK, KEK, db, dbx) its instances start with.\n"
        "\n"
        "Commands:\n"
        "  create     build a shielded image's disk\n"
        "  check      say what keeps a disk from being a shielded image\n"
        "  register   add a disk (or another image) to the local registry, with keys\n"
        "  list       the registered images\n"
        "  show       one image: disk, features, initial state\n"
        "  delete     remove an image from the registry\n"
        "\n"
        "Images live in $SHIELD_STATE_DIR/images (default\n"
        "$XDG_STATE_HOME/shieldkit, else ~/.local/state/shieldkit).\n"
        "Run 'shield image COMMAND --help' for details.\n";

static const char usage_create[] =
        "Usage: shield image create -o DISK --bootloader FILE.efi|agent [--sign-key K --sign-cert C]\n"
        "                           [--size SIZE] [--esp-size SIZE] [--esp-dir DIR]\n"
        "                           [--os-size SIZE | --os-image FILE] [--data SIZE[:LABEL]]…\n"
        "                           [--disk-guid GUID] [--reproducible] [--json]\n"
        "\n"
        "Build a raw disk for a shielded image: a GPT (written with libfdisk), an\n"
        "EFI System Partition formatted FAT (mkfs.fat and mtools: no loop devices,\n"
        "no root) holding the bootloader at \\EFI\\Boot\\bootx64.efi, an OS partition\n"
        "and optional data partitions, in that order, aligned to 1 MiB. With\n"
        "--size the disk is that big and the OS partition takes the rest: the ESP\n"
        "and the data partitions keep their sizes. The disk is written beside\n"
        "DISK and renamed over it only when complete.\n"
        "\n"
        "Options:\n"
        "  -o, --output DISK     the raw disk to write\n"
        "  --bootloader FILE     the EFI program to boot; \"agent\" takes Shieldkit's\n"
        "                        measurement agent (build/efi/shield-agent.efi, or\n"
        "                        $SHIELD_AGENT_EFI)\n"
        "  --sign-key K, --sign-cert C\n"
        "                        sign the bootloader (Authenticode SHA-256) with this\n"
        "                        key and certificate first (PEM key; DER or PEM cert)\n"
        "  --size SIZE           the whole disk (K, M, G suffixes); the OS partition gets\n"
        "                        what the ESP and data partitions leave (an error when\n"
        "                        less than 1M is left)\n"
        "  --esp-size SIZE       ESP size (default 100M; K, M, G suffixes; at least 4M)\n"
        "  --esp-dir DIR         also copy DIR's contents to the ESP's root\n"
        "  --os-size SIZE        OS partition size (default 16M; not with --size)\n"
        "  --os-image FILE       OS partition contents (its size rounded up to 1 MiB,\n"
        "                        or the rest of the disk with --size)\n"
        "  --data SIZE[:LABEL]   add a data partition (repeatable, at most 8)\n"
        "  --disk-guid GUID      the GPT disk GUID (partition GUIDs then follow from it)\n"
        "  --reproducible        fixed GUIDs, FAT volume id and timestamps: two builds\n"
        "                        of the same files are byte-identical\n"
        "  --json                the layout as JSON: the disk, the ESP, and every\n"
        "                        partition (index, type ESP/OS/data, GUID, first and\n"
        "                        last LBA, size, label) as read back from the GPT\n"
        "  -h, --help            this text\n"
        "\n"
        "Exit status: 0 written, 2 bad input or a tool failed (nothing is left behind).\n"
        "\n"
        "Example:\n"
        "  shield image create -o disk.raw --bootloader agent --sign-key db.key \\\n"
        "      --sign-cert db.der --reproducible\n"
        "  shield image create -o disk.raw --bootloader agent --size 2G --data 64M:scratch\n";

static const char usage_check[] =
        "Usage: shield image check DISK [--initial-state FILE | --image NAME] [--json]\n"
        "\n"
        "Say precisely what keeps DISK from being a shielded image: an MBR-only\n"
        "disk (GPT is required), no EFI System Partition, an ESP that is not FAT,\n"
        "no bootloader at \\EFI\\Boot\\bootx64.efi (FAT names are case-insensitive),\n"
        "and, with keys, a bootloader that Secure Boot refuses: the SB_EVENT line\n"
        "the firmware's db/dbx decision gives. Also reports the guest OS features\n"
        "the disk needs: UEFI_COMPATIBLE, and WINDOWS when\n"
        "\\EFI\\Microsoft\\Boot\\bootmgfw.efi is present.\n"
        "\n"
        "Options:\n"
        "  --initial-state FILE  check the bootloader against these keys (unset\n"
        "                        values take the platform defaults)\n"
        "  --image NAME          ... against a registered image's effective keys\n"
        "  --json                the findings as JSON\n"
        "  -h, --help            this text\n"
        "\n"
        "Exit status: 0 a shielded image, 1 it is not (findings printed), 2 the\n"
        "disk cannot be read or bad usage.\n";

static const char usage_register[] =
        "Usage: shield image register NAME (--source-disk DISK | --source-image IMAGE)\n"
        "           [--platform-key-file PK.der] [--key-exchange-key-file F,…]\n"
        "           [--signature-database-file F,…] [--forbidden-database-file F,…]\n"
        "           [--initial-state FILE] [--guest-os-features UEFI_COMPATIBLE[,WINDOWS]]\n"
        "           [--strict] [--json]\n"
        "\n"
        "The local counterpart of `gcloud compute images create`, with its flags\n"
        "and rules. The disk is checked (as `shield image check`) and copied into\n"
        "the registry. Each key file is an X.509 certificate (DER or PEM) or EFI\n"
        "signature lists (a signed update is unwrapped). Keys left unset take the\n"
        "platform defaults when an instance is created; keys given replace the\n"
        "defaults, never merged. An image registered from another image without\n"
        "any key option inherits that image's initial state.\n"
        "\n"
        "--initial-state FILE takes the same keys as the API does: the images\n"
        "API's initial_state_config, {\"pk\": {\"content\": BASE64, \"fileType\":\n"
        "\"X509\"|\"BIN\"}, \"keks\": […], \"dbs\": […], \"dbxs\": […]} (what\n"
        "`shield initial-state create` writes), with the same rules: a field left\n"
        "out takes the platform default, a field given replaces it; it excludes\n"
        "the four key-file options. An empty object {} means every default (not\n"
        "the source image's state).\n"
        "\n"
        "The bootloader is judged offline (as `shield image check --image`) under\n"
        "the image's own effective db/dbx: the keys given or inherited, the\n"
        "platform defaults filling the gaps. When Secure Boot would refuse it,\n"
        "registration warns with the verdict (SB_Variable_Match) and the SB_EVENT\n"
        "line; --strict refuses to register it instead.\n"
        "\n"
        "Options:\n"
        "  --source-disk DISK              a raw disk (see `shield image create`)\n"
        "  --source-image IMAGE            a registered image\n"
        "  --platform-key-file F           the PK: exactly one X.509 certificate\n"
        "  --key-exchange-key-file F,…     KEK entries\n"
        "  --signature-database-file F,…   db entries\n"
        "  --forbidden-database-file F,…   dbx entries\n"
        "  --initial-state FILE            all four as an initial_state_config document\n"
        "  --guest-os-features LIST        default: what the disk needs\n"
        "  --strict                        refuse an image whose own keys refuse its\n"
        "                                  bootloader (or that cannot be judged)\n"
        "  --json                          the registered image as JSON\n"
        "  -h, --help                      this text\n"
        "\n"
        "Exit status: 0 registered, 1 the disk is not a shielded image (or, with\n"
        "--strict, its keys refuse its bootloader), 2 bad input.\n"
        "\n"
        "Example:\n"
        "  shield image register web --source-disk disk.raw \\\n"
        "      --signature-database-file keys/db.der\n";

static const char usage_simple[] =
        "Usage: shield image list [--json]\n"
        "       shield image show NAME [--json]\n"
        "       shield image delete NAME\n"
        "\n"
        "list: every registered image (name, disk size, features, custom keys).\n"
        "show: one image's metadata, disk path and initial_state_config.\n"
        "delete: remove the image and its disk copy (instances made from it keep\n"
        "running on their own overlays only while the image exists: delete them first).\n"
        "\n"
        "Exit status: 0 ok, 2 no such image or bad usage.\n";

static void progress(const char *step) {
        fprintf(stderr, "image create: %s…\n", step);
}

/* The measurement agent's path: $SHIELD_AGENT_EFI, else the one this build made. */
static const char *agent_path(void) {
        const char *env = getenv("SHIELD_AGENT_EFI");
        return env && *env ? env : SHIELD_AGENT_EFI_BUILT;
}

static int sign_to_temp(const char *in, const char *key, const char *cert, char **ret_path) {
        uint8_t *img = NULL, *key_pem = NULL, *cert_buf = NULL, *cert_der = NULL, *out = NULL, digest[32];
        size_t img_len, key_len, cert_len, der_len, out_len;
        int r = EXIT_BAD_INPUT;

        if (cli_read_file(in, SHIELD_BOOTLOADER_MAX, &img, &img_len) != 0 || cli_read_file(key, 1 << 20, &key_pem, &key_len) != 0 ||
            cli_read_file(cert, 1 << 20, &cert_buf, &cert_len) != 0)
                goto out;
        if (shield_x509_load(cert_buf, cert_len, &cert_der, &der_len) < 0) {
                cli_error("%s: not an X.509 certificate", cert);
                goto out;
        }
        int s = shield_pe_sign(img, img_len, (const char *)key_pem, key_len, cert_der, der_len, false, &out, &out_len,
                               digest);
        if (s < 0) {
                cli_error("%s: cannot sign: %s", in, s == SHIELD_E_INVAL ? "the key does not belong to the certificate"
                                                                       : shield_strerror(s));
                goto out;
        }
        char tmpl[] = "/tmp/shield-bootloader-XXXXXX";
        int fd = mkstemp(tmpl);
        if (fd < 0 || write(fd, out, out_len) != (ssize_t)out_len) {
                cli_error("temporary file: %s", strerror(errno));
                if (fd >= 0) {
                        close(fd);
                        unlink(tmpl);
                }
                goto out;
        }
        close(fd);
        *ret_path = strdup(tmpl);
        r = *ret_path ? EXIT_OK : EXIT_BAD_INPUT;
out:
        if (key_pem)
                explicit_bzero(key_pem, key_len);
        free(key_pem);
        free(img);
        free(cert_buf);
        free(cert_der);
        free(out);
        return r;
}

static int parse_data(const char *arg, struct shield_image_data_partition *p) {
        const char *colon = strchr(arg, ':');
        char size[32];
        size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
        if (n == 0 || n >= sizeof size)
                return -1;
        memcpy(size, arg, n);
        size[n] = '\0';
        if (shield_parse_size(size, &p->size) < 0 || p->size == 0)
                return -1;
        p->label = colon ? colon + 1 : NULL;
        return 0;
}

/* Every partition of a layout: index, type (ESP, OS, data), GUIDs, LBAs, size, label. */
static json_t *partitions_json(const struct shield_disk_layout *l) {
        json_t *arr = json_array();
        for (size_t i = 0; i < l->n_partitions; i++) {
                const struct shield_gpt_partition *p = &l->partitions[i];
                char guid[SHIELD_GUID_STRING_SIZE], type[SHIELD_GUID_STRING_SIZE];
                shield_guid_format(&p->unique_guid, guid);
                shield_guid_format(&p->type_guid, type);
                json_array_append_new(
                        arr, json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "index", (int)p->index, "type",
                                       shield_image_role_name(shield_image_partition_role(&p->type_guid)), "guid",
                                       guid, "type_guid", type, "first_lba", (json_int_t)p->first_lba, "last_lba",
                                       (json_int_t)p->last_lba, "size",
                                       (json_int_t)((p->last_lba - p->first_lba + 1) * l->sector_size), "label",
                                       p->name));
        }
        return arr;
}

static int verb_create(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },          { "output", required_argument, NULL, 'o' },
                { "bootloader", required_argument, NULL, 'b' }, { "sign-key", required_argument, NULL, 'k' },
                { "sign-cert", required_argument, NULL, 'c' }, { "esp-size", required_argument, NULL, 'e' },
                { "esp-dir", required_argument, NULL, 'E' },  { "os-size", required_argument, NULL, 's' },
                { "os-image", required_argument, NULL, 'i' }, { "data", required_argument, NULL, 'd' },
                { "disk-guid", required_argument, NULL, 'g' }, { "reproducible", no_argument, NULL, 'r' },
                { "json", no_argument, NULL, 'j' },          { "size", required_argument, NULL, 'S' },
                {},
        };
        struct shield_image_spec spec = { 0 };
        const char *key = NULL, *cert = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_create, stdout); return EXIT_OK;
                case 'o': spec.output = optarg; break;
                case 'b': spec.bootloader = optarg; break;
                case 'k': key = optarg; break;
                case 'c': cert = optarg; break;
                case 'e':
                        if (shield_parse_size(optarg, &spec.esp_size) < 0 || spec.esp_size < (4u << 20))
                                return cli_usage_error(usage_create, "create: --esp-size %s: a size of at least 4M", optarg);
                        break;
                case 'E': spec.esp_dir = optarg; break;
                case 'S':
                        if (shield_parse_size(optarg, &spec.disk_size) < 0 || spec.disk_size == 0 ||
                            spec.disk_size % 512 || spec.disk_size > SHIELD_IMAGE_DISK_MAX)
                                return cli_usage_error(usage_create,
                                                       "create: --size %s: a size (K, M, G suffixes), a multiple of "
                                                       "512 bytes, at most %lluG",
                                                       optarg, SHIELD_IMAGE_DISK_MAX >> 30);
                        break;
                case 's':
                        if (shield_parse_size(optarg, &spec.os_size) < 0 || spec.os_size == 0)
                                return cli_usage_error(usage_create, "create: --os-size %s: not a size", optarg);
                        break;
                case 'i': spec.os_image = optarg; break;
                case 'd':
                        if (spec.n_data == SHIELD_IMAGE_DATA_MAX)
                                return cli_usage_error(usage_create, "create: at most %d --data partitions",
                                                       SHIELD_IMAGE_DATA_MAX);
                        if (parse_data(optarg, &spec.data[spec.n_data++]) < 0)
                                return cli_usage_error(usage_create, "create: --data %s: expected SIZE[:LABEL]", optarg);
                        break;
                case 'g': {
                        shield_guid g;
                        if (shield_guid_parse(optarg, &g) < 0)
                                return cli_usage_error(usage_create, "create: --disk-guid %s: not a GUID", optarg);
                        spec.disk_guid = optarg;
                        break;
                }
                case 'r': spec.reproducible = true; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (optind != argc)
                return cli_usage_error(usage_create, "create: unexpected argument \"%s\"", argv[optind]);
        if (!spec.output || !spec.bootloader)
                return cli_usage_error(usage_create, "create: -o DISK and --bootloader are required");
        if (spec.os_size && spec.os_image)
                return cli_usage_error(usage_create, "create: --os-size and --os-image exclude each other");
        if (spec.os_size && spec.disk_size)
                return cli_usage_error(usage_create,
                                       "create: --os-size and --size exclude each other (with --size the OS "
                                       "partition takes the rest)");
        if (!!key != !!cert)
                return cli_usage_error(usage_create, "create: --sign-key and --sign-cert go together");

        const char *boot = strcmp(spec.bootloader, "agent") == 0 ? agent_path() : spec.bootloader;
        if (access(boot, R_OK) < 0) {
                cli_error("bootloader %s: %s%s", boot, strerror(errno),
                          boot != spec.bootloader ? " (build it with `make build`, or set SHIELD_AGENT_EFI)" : "");
                return EXIT_BAD_INPUT;
        }
        char *signed_path = NULL;
        if (key && sign_to_temp(boot, key, cert, &signed_path) != EXIT_OK)
                return EXIT_BAD_INPUT;
        spec.bootloader = signed_path ? signed_path : boot;

        struct shield_diag diag = { 0 };
        int r = shield_image_create(&spec, json ? NULL : progress, &diag);
        if (signed_path) {
                unlink(signed_path);
                free(signed_path);
        }
        if (r < 0) {
                cli_error("%s: %s", spec.output, diag.msg[0] ? diag.msg : shield_strerror(r));
                return EXIT_BAD_INPUT;
        }
        struct shield_image_check chk;
        if (shield_image_check(spec.output, NULL, &chk, &diag) < 0) {
                cli_error("%s: written but cannot be read back: %s", spec.output, diag.msg);
                return EXIT_BAD_INPUT;
        }
        struct shield_blockdev dev;
        struct shield_disk_layout layout = { 0 };
        if (shield_blockdev_open_file(spec.output, &dev, &diag) < 0 || shield_disk_read_layout(&dev, &layout, &diag) < 0) {
                cli_error("%s: written but its GPT cannot be read back: %s", spec.output, diag.msg);
                shield_blockdev_close(&dev);
                shield_image_check_clear(&chk);
                return EXIT_BAD_INPUT;
        }
        shield_blockdev_close(&dev);
        if (json) {
                json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:s, s:I, s:I}", "disk", spec.output, "disk_size",
                                      (json_int_t)chk.disk_size, "esp_offset", (json_int_t)chk.esp_offset, "esp_size",
                                      (json_int_t)chk.esp_size, "esp_fs", chk.esp_fs, "bootloader_size",
                                      (json_int_t)chk.bootloader_len, "sector_size", (json_int_t)layout.sector_size);
                char guid[SHIELD_GUID_STRING_SIZE];
                shield_guid_format(&layout.disk_guid, guid);
                json_object_set_new(j, "disk_guid", json_string(guid));
                json_object_set_new(j, "partitions", partitions_json(&layout));
                cli_print_json(j);
        } else {
                printf("%s: GPT, %llu MiB; ESP %s %llu MiB at %llu MiB with \\EFI\\Boot\\bootx64.efi (%zu bytes)%s\n",
                       spec.output, (unsigned long long)(chk.disk_size >> 20), chk.esp_fs,
                       (unsigned long long)(chk.esp_size >> 20), (unsigned long long)(chk.esp_offset >> 20),
                       chk.bootloader_len, key ? ", signed" : "");
                for (size_t i = 0; i < layout.n_partitions; i++) {
                        const struct shield_gpt_partition *p = &layout.partitions[i];
                        printf("  %u %-4s %10llu MiB  LBA %llu-%llu  %s\n", p->index,
                               shield_image_role_name(shield_image_partition_role(&p->type_guid)),
                               (unsigned long long)((p->last_lba - p->first_lba + 1) * layout.sector_size >> 20),
                               (unsigned long long)p->first_lba, (unsigned long long)p->last_lba, p->name);
                }
        }
        shield_disk_layout_free(&layout);
        shield_image_check_clear(&chk);
        return EXIT_OK;
}

/* The effective db/dbx: from an initial-state file, a registered image, or none. */
static int load_keys(const char *initial_state, const char *image, uint8_t **db, size_t *db_len, uint8_t **dbx,
                     size_t *dbx_len) {
        struct shield_initial_state st = { 0 }, resolved = { 0 };
        struct shield_image_record rec = { 0 };
        struct shield_diag diag = { 0 };
        char *state = cli_state_dir();
        int r = EXIT_BAD_INPUT;

        if (!state)
                return EXIT_BAD_INPUT;
        if (initial_state) {
                uint8_t *text = NULL;
                size_t len;
                if (cli_read_file(initial_state, SHIELD_INITIAL_STATE_JSON_MAX, &text, &len) != 0)
                        goto out;
                int s = shield_initial_state_parse((const char *)text, len, &st, &diag);
                free(text);
                if (s < 0) {
                        r = cli_parse_failed(initial_state, s, &diag);
                        goto out;
                }
        } else if (shield_image_load(state, image, &rec, &diag) < 0) {
                cli_error("%s", diag.msg);
                goto out;
        }
        if ((r = cli_effective_state(state, initial_state ? &st : rec.has_initial_state ? &rec.initial_state : NULL,
                                     false, &resolved)) != EXIT_OK)
                goto out;
        r = cli_sb_databases(&resolved, db, db_len, dbx, dbx_len);
out:
        shield_initial_state_clear(&st);
        shield_initial_state_clear(&resolved);
        shield_image_record_clear(&rec);
        free(state);
        return r;
}

static json_t *check_json(const char *disk, const struct shield_image_check *c, bool ok) {
        char feat[64];
        shield_features_text(c->features_needed, feat, sizeof feat);
        json_t *j = json_pack("{s:s, s:b, s:s, s:I, s:o}", "disk", disk, "shielded_image", ok, "partition_table",
                              c->scheme == SHIELD_DISK_GPT ? "GPT" : c->scheme == SHIELD_DISK_MBR ? "MBR" : "none",
                              "disk_size", (json_int_t)c->disk_size, "findings", cli_reasons_json(&c->findings));
        json_t *features = json_array();
        char *save = NULL;
        for (char *t = strtok_r(feat, ",", &save); t; t = strtok_r(NULL, ",", &save))
                json_array_append_new(features, json_string(t));
        json_object_set_new(j, "guest_os_features_needed", features);
        if (c->esp_index) {
                json_object_set_new(j, "esp", json_pack("{s:i, s:I, s:I, s:s?}", "partition", (int)c->esp_index,
                                                        "offset", (json_int_t)c->esp_offset, "size",
                                                        (json_int_t)c->esp_size, "filesystem",
                                                        c->esp_fs[0] ? c->esp_fs : NULL));
        }
        if (c->bootloader)
                json_object_set_new(j, "bootloader", json_pack("{s:s, s:I}", "path", SHIELD_BOOTLOADER_PATH, "size",
                                                               (json_int_t)c->bootloader_len));
        if (c->sb_checked) {
                json_t *ev = NULL;
                const char *brace = c->sb_event ? strchr(c->sb_event, '{') : NULL;
                if (brace)
                        ev = json_loads(brace, 0, NULL);
                json_object_set_new(j, "secure_boot", ev ? ev : json_null());
        }
        return j;
}

static int verb_check(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "initial-state", required_argument, NULL, 'i' },
                { "image", required_argument, NULL, 'I' }, { "json", no_argument, NULL, 'j' }, {},
        };
        const char *initial_state = NULL, *image = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_check, stdout); return EXIT_OK;
                case 'i': initial_state = optarg; break;
                case 'I': image = optarg; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (optind != argc - 1)
                return cli_usage_error(usage_check, "check: expected exactly one DISK");
        if (initial_state && image)
                return cli_usage_error(usage_check, "check: --initial-state and --image exclude each other");
        const char *disk = argv[optind];

        uint8_t *db = NULL, *dbx = NULL;
        size_t db_len = 0, dbx_len = 0;
        if ((initial_state || image) && load_keys(initial_state, image, &db, &db_len, &dbx, &dbx_len) != EXIT_OK)
                return EXIT_BAD_INPUT;
        struct shield_sb_databases dbs = { db, db_len, dbx, dbx_len };
        struct shield_image_check chk;
        struct shield_diag diag = { 0 };
        int r = shield_image_check(disk, initial_state || image ? &dbs : NULL, &chk, &diag);
        free(db);
        free(dbx);
        if (r < 0) {
                cli_error("%s: %s", disk, diag.msg[0] ? diag.msg : shield_strerror(r));
                return EXIT_BAD_INPUT;
        }
        bool ok = shield_reasons_count(&chk.findings, SHIELD_SEV_ERROR) == 0;
        if (json) {
                cli_print_json(check_json(disk, &chk, ok));
        } else {
                if (chk.sb_event)
                        printf("%s\n", chk.sb_event);
                if (ok) {
                        char feat[64];
                        shield_features_text(chk.features_needed, feat, sizeof feat);
                        printf("%s: a shielded image: GPT, ESP (partition %u, %s, %llu MiB), %s present%s\n", disk,
                               chk.esp_index, chk.esp_fs, (unsigned long long)(chk.esp_size >> 20),
                               SHIELD_BOOTLOADER_PATH, chk.sb_checked ? ", Secure Boot passes" : "");
                        printf("guest OS features needed: %s\n", feat);
                } else {
                        printf("%s: not a shielded image\n", disk);
                        cli_print_reasons(stdout, &chk.findings);
                }
        }
        shield_image_check_clear(&chk);
        return ok ? EXIT_OK : EXIT_VERIFY_FAILED;
}

/* Add each comma-separated file to v. */
static int add_files(struct shield_is_value *v, const char *list, const char *flag) {
        char *copy = strdup(list), *save = NULL;
        int r = EXIT_OK;
        if (!copy)
                return EXIT_BAD_INPUT;
        for (char *f = strtok_r(copy, ",", &save); f && r == EXIT_OK; f = strtok_r(NULL, ",", &save)) {
                uint8_t *buf = NULL;
                size_t len;
                if (cli_read_file(f, 16u << 20, &buf, &len) != 0) {
                        r = EXIT_BAD_INPUT;
                        break;
                }
                if (shield_initial_state_add(v, buf, len) < 0) {
                        cli_error("%s %s: not an X.509 certificate or EFI signature lists", flag, f);
                        r = EXIT_BAD_INPUT;
                }
                free(buf);
        }
        free(copy);
        return r;
}

/*
 * The offline verdict on the bootloader the image would boot, under the
 * image's own effective db/dbx: the keys given (or, with none, the source
 * image's), the platform defaults filling the gaps, exactly as instance
 * creation will resolve them. A refusal is a warning naming the verdict
 * and the bootloader, or with strict EXIT_VERIFY_FAILED; so is a
 * bootloader that cannot be judged under strict.
 */
static int judge_bootloader(const char *state, const struct shield_image_register_opts *o, bool strict) {
        struct shield_image_record src = { 0 };
        struct shield_initial_state resolved = { 0 };
        struct shield_image_check chk = { 0 };
        struct shield_diag diag = { 0 };
        const struct shield_initial_state *st = o->keys_given ? &o->keys : NULL;
        const char *disk = o->source_disk;
        uint8_t *db = NULL, *dbx = NULL;
        size_t db_len = 0, dbx_len = 0;
        int r = EXIT_OK;
        bool judged = false;

        if (o->source_image) {
                if (shield_image_load(state, o->source_image, &src, &diag) < 0)
                        return EXIT_OK; /* shield_image_register() says what is wrong with the source */
                disk = src.disk;
                if (!o->keys_given && src.has_initial_state)
                        st = &src.initial_state;
        }
        if (shield_image_check(disk, NULL, &chk, &diag) < 0 || !chk.bootloader) {
                cli_warn("image %s: the bootloader on %s cannot be read to judge it: %s", o->name, disk,
                         diag.msg[0] ? diag.msg : "no bootloader");
                goto out;
        }
        if (cli_effective_state(state, st, true, &resolved) != EXIT_OK ||
            cli_sb_databases(&resolved, &db, &db_len, &dbx, &dbx_len) != EXIT_OK)
                goto out; /* said */
        struct shield_sb_databases dbs = { db, db_len, dbx, dbx_len };
        struct shield_sb_verdict v;
        if (shield_sb_check(chk.bootloader, chk.bootloader_len, &dbs, &v, &diag) < 0) {
                cli_warn("image %s: %s cannot be judged: %s", o->name, SHIELD_BOOTLOADER_PATH, diag.msg);
                goto out;
        }
        judged = true;
        if (!v.pass) {
                struct shield_sb_event ev;
                shield_sb_event_from_verdict(&v, SHIELD_BOOTLOADER_PATH, &ev);
                char *line = shield_sb_event_line(&ev);
                const char *keys = st ? "its own db/dbx" : "the platform's default db/dbx";
                if (strict)
                        cli_error("image %s: Secure Boot would refuse its bootloader %s under %s (SB_Variable_Match "
                                  "%s: %s); not registered (--strict)",
                                  o->name, SHIELD_BOOTLOADER_PATH, keys, v.match, v.reason);
                else
                        cli_warn("image %s: Secure Boot would refuse its bootloader %s under %s (SB_Variable_Match "
                                 "%s: %s); its instances will not boot (--strict refuses such an image)",
                                 o->name, SHIELD_BOOTLOADER_PATH, keys, v.match, v.reason);
                if (line)
                        fprintf(stderr, "%s\n", line);
                free(line);
                if (strict)
                        r = EXIT_VERIFY_FAILED;
        }
out:
        if (!judged && strict) {
                cli_error("image %s: not registered (--strict): its bootloader could not be judged", o->name);
                r = EXIT_VERIFY_FAILED;
        }
        free(db);
        free(dbx);
        shield_initial_state_clear(&resolved);
        shield_image_check_clear(&chk);
        shield_image_record_clear(&src);
        return r;
}

static int verb_register(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "source-disk", required_argument, NULL, 'd' },
                { "source-image", required_argument, NULL, 'i' },
                { "platform-key-file", required_argument, NULL, 'p' },
                { "key-exchange-key-file", required_argument, NULL, 'k' },
                { "signature-database-file", required_argument, NULL, 's' },
                { "forbidden-database-file", required_argument, NULL, 'f' },
                { "guest-os-features", required_argument, NULL, 'g' },
                { "initial-state", required_argument, NULL, 'I' },
                { "strict", no_argument, NULL, 'S' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        struct shield_image_register_opts o = { 0 };
        const char *initial_state = NULL;
        bool key_files = false, strict = false;
        struct shield_diag diag = { 0 };
        bool json = false;
        int c, r = EXIT_OK;

        optind = 0;
        opterr = 0;
        while (r == EXIT_OK && (c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_register, stdout); return EXIT_OK;
                case 'd': o.source_disk = optarg; break;
                case 'i': o.source_image = optarg; break;
                case 'p':
                        if (o.keys.pk.set)
                                r = cli_usage_error(usage_register, "register: the PK is exactly one certificate");
                        else
                                r = add_files(&o.keys.pk, optarg, "--platform-key-file");
                        if (r == EXIT_OK && (o.keys.pk.n != 1 || o.keys.pk.entries[0].type != SHIELD_IS_X509))
                                r = cli_usage_error(usage_register,
                                                    "register: --platform-key-file takes exactly one X.509 certificate");
                        key_files = true;
                        break;
                case 'k': r = add_files(&o.keys.keks, optarg, "--key-exchange-key-file"); key_files = true; break;
                case 's': r = add_files(&o.keys.dbs, optarg, "--signature-database-file"); key_files = true; break;
                case 'f': r = add_files(&o.keys.dbxs, optarg, "--forbidden-database-file"); key_files = true; break;
                case 'I': initial_state = optarg; break;
                case 'S': strict = true; break;
                case 'g':
                        if (shield_features_parse(optarg, &o.features, &diag) < 0)
                                r = cli_usage_error(usage_register, "register: --guest-os-features: %s", diag.msg);
                        break;
                case 'j': json = true; break;
                default: r = EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (r == EXIT_OK && optind != argc - 1)
                r = cli_usage_error(usage_register, "register: expected exactly one NAME");
        if (r == EXIT_OK && !!o.source_disk == !!o.source_image)
                r = cli_usage_error(usage_register, "register: give one of --source-disk or --source-image");
        if (r == EXIT_OK && initial_state && key_files)
                r = cli_usage_error(usage_register,
                                    "register: --initial-state excludes the key-file options (it holds all four keys)");
        if (r == EXIT_OK && initial_state) {
                /* The API's document: the same replace-never-merge rules, checked field by field. */
                uint8_t *text = NULL;
                size_t len;
                if (cli_read_file(initial_state, SHIELD_INITIAL_STATE_JSON_MAX, &text, &len) != 0) {
                        r = EXIT_BAD_INPUT;
                } else {
                        int s = shield_initial_state_parse((const char *)text, len, &o.keys, &diag);
                        free(text);
                        if (s < 0) {
                                /* diag names the field ("keks[1].fileType"): a JSON byte offset would say less. */
                                cli_error("--initial-state %s: %s", initial_state, diag.msg);
                                r = EXIT_BAD_INPUT;
                        }
                }
        }
        o.keys_given = key_files || initial_state;
        if (r != EXIT_OK)
                goto out;
        o.name = argv[optind];

        char *state = cli_state_dir();
        if (!state) {
                r = EXIT_BAD_INPUT;
                goto out;
        }
        if (o.source_disk) {
                struct shield_image_check chk;
                if (shield_image_check(o.source_disk, NULL, &chk, &diag) < 0) {
                        cli_error("%s: %s", o.source_disk, diag.msg);
                        r = EXIT_BAD_INPUT;
                } else if (shield_reasons_count(&chk.findings, SHIELD_SEV_ERROR)) {
                        printf("%s: not a shielded image\n", o.source_disk);
                        cli_print_reasons(stdout, &chk.findings);
                        r = EXIT_VERIFY_FAILED;
                } else if (o.features && (chk.features_needed & ~o.features)) {
                        char need[64];
                        shield_features_text(chk.features_needed, need, sizeof need);
                        cli_error("%s needs the guest OS features %s", o.source_disk, need);
                        r = EXIT_BAD_INPUT;
                } else if (!o.features) {
                        o.features = chk.features_needed;
                }
                shield_image_check_clear(&chk);
        }
        if (r == EXIT_OK)
                r = judge_bootloader(state, &o, strict);
        if (r == EXIT_OK && shield_image_register(state, &o, &diag) < 0) {
                cli_error("register %s: %s", o.name, diag.msg);
                r = EXIT_BAD_INPUT;
        }
        if (r == EXIT_OK) {
                struct shield_image_record rec;
                if (shield_image_load(state, o.name, &rec, &diag) < 0) {
                        cli_error("%s", diag.msg);
                        r = EXIT_BAD_INPUT;
                } else {
                        if (json) {
                                char *s = shield_image_record_json(&rec);
                                printf("%s\n", s ? s : "{}");
                                free(s);
                        } else {
                                printf("image %s registered: %llu MiB disk (sha256 %.16s…), %s\n", rec.name,
                                       (unsigned long long)(rec.disk_size >> 20), rec.disk_sha256,
                                       rec.has_initial_state ? "custom Secure Boot keys" : "platform default keys");
                        }
                        shield_image_record_clear(&rec);
                }
        }
        free(state);
out:
        shield_initial_state_clear(&o.keys);
        return r;
}

static const char *value_text(const struct shield_is_value *v, char *buf, size_t size) {
        if (!v->set)
                return "default";
        size_t x = 0, b = 0;
        for (size_t i = 0; i < v->n; i++)
                v->entries[i].type == SHIELD_IS_X509 ? x++ : b++;
        snprintf(buf, size, "custom: %zu certificate%s, %zu signature-list file%s", x, x == 1 ? "" : "s", b,
                 b == 1 ? "" : "s");
        return buf;
}

/*
 * One image of `list --json`: a summary cut from the record's one JSON
 * rendering (shield_image_record_json, what `show --json` prints), so each
 * field has the same name and type in both (guest_os_features an array).
 */
static json_t *list_entry_json(const struct shield_image_record *rec) {
        char *text = shield_image_record_json(rec);
        json_t *full = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        json_t *j = json_pack("{s:s, s:O?, s:O?, s:O?, s:O?, s:b}", "name", rec->name, "disk_size",
                              json_object_get(full, "disk_size"), "guest_os_features",
                              json_object_get(full, "guest_os_features"), "created", json_object_get(full, "created"),
                              "source_image", json_object_get(full, "source_image"), "custom_keys",
                              rec->has_initial_state);
        json_decref(full);
        return j;
}

static int verb_list_show_delete(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'j' }, {},
        };
        bool json = false;
        int c;
        const char *verb = argv[0];

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_simple, stdout); return EXIT_OK;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        bool is_list = strcmp(verb, "list") == 0;
        if (is_list ? optind != argc : optind != argc - 1)
                return cli_usage_error(usage_simple, is_list ? "list: takes no arguments" : "%s: expected one NAME", verb);

        char *state = cli_state_dir();
        struct shield_diag diag = { 0 };
        int r = EXIT_OK;
        if (!state)
                return EXIT_BAD_INPUT;
        if (strcmp(verb, "delete") == 0) {
                /* Instances run on overlays of the image's disk: deleting it would break them. */
                char **names = NULL, users[256] = "";
                size_t n = 0, used = 0;
                if (shield_instance_names(state, &names, &n) == 0) {
                        for (size_t i = 0; i < n; i++) {
                                struct shield_instance inst;
                                if (shield_instance_load(state, names[i], NULL, &inst, NULL) == 0) {
                                        if (strcmp(inst.image, argv[optind]) == 0 && used + strlen(inst.name) + 3 < sizeof users)
                                                used += (size_t)snprintf(users + used, sizeof users - used, "%s%s",
                                                                         used ? ", " : "", inst.name);
                                        shield_instance_clear(&inst);
                                }
                                free(names[i]);
                        }
                        free(names);
                }
                if (used) {
                        cli_error("image %s is used by instances %s: delete them first", argv[optind], users);
                        r = EXIT_BAD_INPUT;
                } else if (shield_image_delete(state, argv[optind], &diag) < 0) {
                        cli_error("%s", diag.msg);
                        r = EXIT_BAD_INPUT;
                } else {
                        printf("image %s deleted\n", argv[optind]);
                }
        } else if (strcmp(verb, "show") == 0) {
                struct shield_image_record rec;
                if (shield_image_load(state, argv[optind], &rec, &diag) < 0) {
                        cli_error("%s", diag.msg);
                        r = EXIT_BAD_INPUT;
                } else if (json) {
                        char *s = shield_image_record_json(&rec);
                        printf("%s\n", s ? s : "{}");
                        free(s);
                        shield_image_record_clear(&rec);
                } else {
                        char feat[64], buf[96];
                        shield_features_text(rec.features, feat, sizeof feat);
                        printf("name:        %s\ncreated:     %s\ndisk:        %s (%llu bytes, sha256 %s)\n", rec.name,
                               rec.created ? rec.created : "?", rec.disk, (unsigned long long)rec.disk_size,
                               rec.disk_sha256);
                        if (rec.source_disk)
                                printf("source disk: %s\n", rec.source_disk);
                        if (rec.source_image)
                                printf("source image: %s\n", rec.source_image);
                        printf("features:    %s\n", feat);
                        const struct shield_is_value *v[4] = { &rec.initial_state.pk, &rec.initial_state.keks,
                                                               &rec.initial_state.dbs, &rec.initial_state.dbxs };
                        const char *names[4] = { "PK", "KEK", "db", "dbx" };
                        for (size_t k = 0; k < 4; k++)
                                printf("%-12s %s\n", names[k], value_text(v[k], buf, sizeof buf));
                        shield_image_record_clear(&rec);
                }
        } else {
                char **names = NULL;
                size_t n = 0;
                if (shield_image_names(state, &names, &n) < 0) {
                        cli_error("out of memory");
                        free(state);
                        return EXIT_BAD_INPUT;
                }
                json_t *arr = json_array();
                if (!json && n)
                        printf("%-24s %10s  %-24s %s\n", "NAME", "DISK MiB", "FEATURES", "KEYS");
                for (size_t i = 0; i < n; i++) {
                        struct shield_image_record rec;
                        if (shield_image_load(state, names[i], &rec, NULL) == 0) {
                                char feat[64];
                                shield_features_text(rec.features, feat, sizeof feat);
                                if (json)
                                        json_array_append_new(arr, list_entry_json(&rec));
                                else
                                        printf("%-24s %10llu  %-24s %s\n", rec.name,
                                               (unsigned long long)(rec.disk_size >> 20), feat,
                                               rec.has_initial_state ? "custom" : "default");
                                shield_image_record_clear(&rec);
                        }
                        free(names[i]);
                }
                free(names);
                if (json)
                        cli_print_json(arr);
                else
                        json_decref(arr);
        }
        free(state);
        return r;
}

int cmd_image(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "create", "build a disk", verb_create },
                { "check", "check a disk", verb_check },
                { "register", "register an image", verb_register },
                { "list", "list images", verb_list_show_delete },
                { "show", "show an image", verb_list_show_delete },
                { "delete", "delete an image", verb_list_show_delete },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
