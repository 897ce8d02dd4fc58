/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The local shielded-VM platform: where its state lives, its platform key
 * and default Secure Boot values, the image registry and instances (an
 * overlay disk, an OVMF variable store and a vTPM), and one boot under QEMU.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/initial-state.h"

#define SHIELD_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
#define SHIELD_OVMF_VARS_TEMPLATE "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define SHIELD_OVMF_VARS_MS "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"

/*
 * The platform's state directory: $SHIELD_STATE_DIR, else
 * $XDG_STATE_HOME/shieldkit, else ~/.local/state/shieldkit. malloc'd.
 */
char *shield_state_dir(void);

/*
 * The platform's PK certificate (DER), made once: STATE/platform-pk/PK.der
 * with its key PK.key (0600), RSA-2048 self-signed. This is the PK an
 * image gets when its initial state leaves pk unset.
 */
__attribute__((warn_unused_result))
int shield_platform_pk(const char *state, uint8_t **ret_der, size_t *ret_len, struct shield_diag *diag);

/*
 * The UEFI revocation list shipped with Shieldkit (a signed x64 DBX update,
 * data/uefi/dbx/DBXUpdate-amd64.bin): $SHIELD_DEFAULT_DBX when set, else
 * the source tree's copy when it exists (an uninstalled build), else the
 * installed one (DATADIR/shieldkit/uefi/dbx/). Never NULL; the file may be
 * missing. *ret_date (may be NULL) is the list's date, "" for
 * $SHIELD_DEFAULT_DBX.
 */
const char *shield_default_dbx_path(const char **ret_date);

/*
 * The platform defaults directory: $SHIELD_DEFAULTS_DIR when set (used as
 * it is), else STATE/platform-defaults, made on first use: KEK and db from
 * the Microsoft certificates in Debian's OVMF_VARS_4M.ms.fd, dbx = the
 * shipped revocation list (shield_default_dbx_path()), their sources in
 * sources.json. A directory made before the revocation list was shipped
 * (its dbx the one placeholder hash from OVMF) is upgraded here, once: the
 * shipped list is added and the placeholder removed. *ret_dir is malloc'd.
 * SHIELD_E_NOT_FOUND (diag) when OVMF_VARS_4M.ms.fd or the shipped list is
 * missing.
 */
__attribute__((warn_unused_result))
int shield_platform_defaults_dir(const char *state, char **ret_dir, struct shield_diag *diag);

/*
 * The platform defaults (see shield_initial_state_defaults) from
 * shield_platform_defaults_dir(), with the platform PK (made on first use).
 */
__attribute__((warn_unused_result))
int shield_platform_defaults(const char *state, struct shield_initial_state *ret, struct shield_diag *diag);

/* ---- serial frames (docs/REAL-BOOTS.md): what a guest sends out over its console ---- */

#define SHIELD_FRAMES_MAX 32
#define SHIELD_FRAME_NAME_MAX 32
#define SHIELD_FRAME_MAX_BYTES (64u << 20)

struct shield_frame {
        char name[SHIELD_FRAME_NAME_MAX + 1];
        uint8_t *data;          /* malloc'd */
        size_t len;
        size_t offset;          /* of its SHIELD-BEGIN line in the console text */
};

struct shield_frames {
        size_t n;
        struct shield_frame items[SHIELD_FRAMES_MAX];
        bool done;              /* SHIELD-DONE seen */
        size_t n_errors;        /* SHIELD-ERROR lines the guest printed */
        char first_error[256];  /* the first of them */
};

/*
 * Decode every frame in a console capture (len bytes; carriage returns and
 * ANSI escapes are skipped): "SHIELD-BEGIN name len crc32", base64 lines,
 * "SHIELD-END name". Each frame's length and CRC-32 must match, names are
 * [a-z0-9_-]{1,32} and sent once. SHIELD_E_FORMAT with the byte offset of
 * the bad frame in diag; *ret (free with shield_frames_clear) is written
 * only on success. Text outside frames is ignored.
 */
__attribute__((warn_unused_result))
int shield_frames_parse(const uint8_t *text, size_t len, struct shield_frames *ret, struct shield_diag *diag);
const struct shield_frame *shield_frames_find(const struct shield_frames *f, const char *name);
void shield_frames_clear(struct shield_frames *f);

/* ---- instances: STATE/instances/NAME/ ---- */

#define SHIELD_VM_TPM_BANKS "sha1,sha256"

/* The NIC: QEMU's own option ROM for virtio-net (Debian's ipxe-qemu), at a fixed PCI address. */
#define SHIELD_VM_NIC_ROM_DEFAULT "/usr/lib/ipxe/qemu/efi-virtio.rom"
#define SHIELD_VM_NIC_PCI_SLOT 2
#define SHIELD_VM_NIC_PCI_PATH "PciRoot(0x0)/Pci(0x2,0x0)"

/* The shielded-VM switches a gcloud user knows (shield vm create/set). */
struct shield_instance_settings {
        bool secure_boot;               /* Secure Boot on (default): the variable store holds the keys */
        bool vtpm;                      /* a vTPM (default): measured boot evidence, a colour */
        bool integrity_monitoring;      /* golden comparison and colours (default) */
        bool nic;                       /* a virtio-net NIC (no network backend); default off */
        char *nic_rom;                  /* its option ROM file; NULL: QEMU's own (iPXE, not signed by db) */
};
/* The defaults above; clear frees nic_rom and resets to them. */
void shield_instance_settings_default(struct shield_instance_settings *s);
void shield_instance_settings_clear(struct shield_instance_settings *s);

struct shield_instance {
        char name[64];
        struct shield_instance_settings settings;
        char *dir;              /* STATE/instances/NAME */
        char *image;            /* the image it was made from */
        char *image_disk;       /* that image's disk.raw (the overlay's backing file) */
        char *disk;             /* DIR/disk.qcow2: copy-on-write overlay */
        char *vars;             /* DIR/OVMF_VARS.fd: its own variable store */
        char *tpm_dir;          /* DIR/tpm: swtpm state (EK, AK, certificates in NV) */
        char *serial;           /* DIR/serial.log: the console of the last or current boot */
        char *created;
};

/*
 * Make an instance of image: the overlay (qemu-img), a variable store from
 * OVMF_VARS_4M.fd with the image's effective initial state enrolled
 * (Secure Boot on), and a vTPM (swtpm_setup, banks SHIELD_VM_TPM_BANKS)
 * provisioned once with an EK and an AK whose certificates the platform CA
 * (STATE/platform-ca) issues into NV. dir NULL: STATE/instances/NAME.
 * Nothing is left behind on failure. progress may be NULL.
 */
__attribute__((warn_unused_result))
int shield_instance_create(const char *state, const char *name, const char *image, const char *dir,
                           void (*progress)(const char *step), struct shield_diag *diag);
/*
 * Run the instance's vTPM on its own (the instance not booting) as a TCP
 * swtpm on loopback, for host-side work with its keys (registering with a
 * service, credential activation): its TCTI string into tcti, its process
 * into *ret_pid for shield_instance_tpm_stop(). PCRs are fresh (reset).
 */
__attribute__((warn_unused_result))
int shield_instance_tpm_start(const struct shield_instance *inst, char tcti[64], int *ret_pid,
                              struct shield_diag *diag);
void shield_instance_tpm_stop(int pid);

/*
 * Migrate a stopped instance as to new hardware: a new vTPM (new EK and AK,
 * certificates from the platform CA; nothing of the old TPM kept) and its
 * variable store rebuilt from the image's initial state (run-time Secure
 * Boot variable changes are lost); the disk is kept. Built beside the old
 * parts and swapped in, so a failure leaves the instance as it was.
 */
__attribute__((warn_unused_result))
int shield_instance_migrate(const char *state, const struct shield_instance *inst, void (*progress)(const char *step),
                            struct shield_diag *diag);

/*
 * Change a stopped instance's settings: recorded in instance.json; turning
 * Secure Boot off writes its variable store without keys (setup mode: any
 * code runs, and the firmware measures SecureBoot = 0), turning it on
 * writes the image's effective keys again. SHIELD_E_INVAL while it runs.
 */
__attribute__((warn_unused_result))
int shield_instance_apply_settings(const char *state, struct shield_instance *inst,
                                   const struct shield_instance_settings *s, struct shield_diag *diag);

/* A Boot#### variable of the instance's variable store (UEFI 2.10, 3.1.3). */
#define SHIELD_BOOT_ENTRIES_MAX 64
struct shield_boot_entry {
        uint16_t number;                /* #### */
        uint32_t attributes;            /* LOAD_OPTION_ACTIVE = 1, … */
        char *description;              /* "UEFI Misc Device" */
        char *device_path;              /* text */
};
struct shield_boot_entries {
        size_t n;
        struct shield_boot_entry *items;        /* in number order */
        size_t n_order;
        uint16_t order[SHIELD_BOOT_ENTRIES_MAX]; /* BootOrder, as the firmware will try them */
};
/* The entries and BootOrder (none before the firmware's first boot made them). */
__attribute__((warn_unused_result))
int shield_instance_boot_entries(const struct shield_instance *inst, struct shield_boot_entries *ret,
                                 struct shield_diag *diag);
void shield_boot_entries_clear(struct shield_boot_entries *e);
/*
 * Record a new BootOrder (each number an existing Boot#### entry, once):
 * what an operator's change of the boot order does. SHIELD_E_NOT_FOUND
 * naming an unknown entry, SHIELD_E_INVAL for a repeated one.
 */
__attribute__((warn_unused_result))
int shield_instance_set_boot_order(const struct shield_instance *inst, const uint16_t *order, size_t n,
                                   struct shield_diag *diag);

/* Load STATE/instances/NAME (or dir when not NULL). */
__attribute__((warn_unused_result))
int shield_instance_load(const char *state, const char *name, const char *dir, struct shield_instance *ret,
                         struct shield_diag *diag);
void shield_instance_clear(struct shield_instance *inst);
__attribute__((warn_unused_result))
int shield_instance_names(const char *state, char ***ret, size_t *ret_n);
/* The running QEMU's pid (from DIR/qemu.pid), or 0. */
int shield_instance_pid(const struct shield_instance *inst);
/* The platform CA's directory (STATE/platform-ca), created with the CA when missing. malloc'd path. */
__attribute__((warn_unused_result))
int shield_platform_ca(const char *state, char **ret_dir, struct shield_diag *diag);

/* ---- booting ---- */

enum shield_boot_outcome {
        SHIELD_BOOT_DONE,       /* the guest finished (SHIELD-DONE, or the until text) */
        SHIELD_BOOT_REFUSED,    /* the firmware refused the boot program (Secure Boot) */
        SHIELD_BOOT_TIMEOUT,    /* neither within the timeout */
        SHIELD_BOOT_EXITED,     /* QEMU ended before either */
};

struct shield_boot_opts {
        const uint8_t *nonce;   /* passed as fw_cfg opt/shieldkit/nonce; NULL: none */
        size_t nonce_len;
        unsigned timeout_s;     /* 0: 90 */
        unsigned memory_mib;    /* 0: 512 */
        const char *until;      /* console text that also ends the boot as finished (a program that is
                                 * not the agent, e.g. "Welcome to GRUB"); NULL: only SHIELD-DONE */
        void (*progress)(const char *step, double seconds);
};

struct shield_boot_result {
        enum shield_boot_outcome outcome;
        double seconds;                 /* start to outcome */
        double firmware_seconds;        /* start to the boot program starting (or refusal), 0 unknown */
        char detail[256];               /* the refusal line, or why QEMU ended */
        uint8_t *console;               /* the serial log, malloc'd */
        size_t console_len;
};

/*
 * Boot the instance once in the foreground: swtpm on its state, QEMU q35
 * with SMM and OVMF's secure-boot build under TCG (KVM cannot run OVMF on
 * these machines), the overlay disk, the instance's variable store, serial
 * to DIR/serial.log. Watches the console and stops QEMU on SHIELD-DONE, on
 * the firmware's refusal ("Access Denied", "Security Violation", the boot
 * manager prompt it would wait at forever), or on timeout. Returns 0 with
 * the outcome in *ret (free with shield_boot_result_clear), SHIELD_E_* when
 * QEMU or swtpm cannot be started.
 */
__attribute__((warn_unused_result))
int shield_instance_boot(const struct shield_instance *inst, const struct shield_boot_opts *o,
                         struct shield_boot_result *ret, struct shield_diag *diag);
void shield_boot_result_clear(struct shield_boot_result *r);

struct shield_sb_events;

/*
 * The SB_EVENT of every executable a boot of inst loaded or refused
 * (shield_sb_boot_events()): eventlog is the log the guest measured (NULL
 * when it sent none), console the boot's serial output. Judged against the
 * db and dbx in the instance's variable store, on the bytes of the
 * instance's disk (its overlay converted to a temporary raw image in its
 * directory with qemu-img, removed afterwards; when that fails the events
 * carry no verdict). *ret is set only on success; release it with
 * shield_sb_events_clear(). SHIELD_E_* when the variable store cannot be
 * read or the log cannot be parsed (diag says which).
 */
__attribute__((warn_unused_result))
int shield_instance_sb_events(const struct shield_instance *inst, const uint8_t *eventlog, size_t eventlog_len,
                              const uint8_t *console, size_t console_len, struct shield_sb_events *ret,
                              struct shield_diag *diag);

/* Start the instance in the background (DIR/qemu.pid); stop it (SIGTERM, then SIGKILL). */
__attribute__((warn_unused_result))
int shield_instance_start(const struct shield_instance *inst, unsigned memory_mib, struct shield_diag *diag);
__attribute__((warn_unused_result))
int shield_instance_stop(const struct shield_instance *inst, struct shield_diag *diag);

struct shield_evidence;
/*
 * Evidence from a boot's frames: the Linux path sends one "evidence" frame
 * (docs/FORMATS.md JSON); the EFI agent sends its parts (info, eventlog,
 * pcrs, nonce, quote-attest, quote-signature, ak-public, ak-cert, ek-cert).
 * SHIELD_E_FORMAT/NOT_FOUND with diag naming the frame at fault.
 */
__attribute__((warn_unused_result))
int shield_evidence_from_frames(const struct shield_frames *f, const char *producer, struct shield_evidence *ret,
                                struct shield_diag *diag);
