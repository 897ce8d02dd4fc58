/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The decision UEFI firmware makes before it runs an image under Secure
 * Boot (UEFI 2.10, 32.5; edk2 DxeImageVerificationLib), step for step:
 * - unsigned (no certificate table): refused when its SHA-256 is in dbx,
 *   allowed when it is in db, refused otherwise;
 * - signed: every PKCS#7 WIN_CERTIFICATE in table order (others skipped):
 *   refused at the first signature that verifies to a dbx X.509 entry or
 *   carries a certificate whose TBS hash is in dbx (X509_SHA256/384/512),
 *   or when the image's hash under that signature's digest algorithm
 *   (SHA-1/256/384/512) is in dbx; allowed when some signature over this
 *   image verifies to a db certificate (the signer or any certificate of its
 *   chain, intermediates from the signature; no time or EKU checks) or the
 *   hash is in db, and no later signature is revoked; refused when the
 *   table's entries do not fill it exactly.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/disk.h"
#include "shield/error.h"

/* db and dbx as EFI signature lists (either may be empty). */
struct shield_sb_databases {
        const uint8_t *db;
        size_t db_len;
        const uint8_t *dbx;
        size_t dbx_len;
};

struct shield_sb_verdict {
        bool pass;
        const char *match;              /* "DB_CERT_MATCH", "DB_HASH_MATCH", "DBX_HASH_MATCH",
                                         * "DBX_CERT_MATCH", "DBX_CERT_HASH_MATCH", "NO_CERT_MATCH" */
        bool revoked;                   /* match is one of the DBX_* */
        char cert_subject[256];         /* the db/dbx certificate that decided, or the first signer: its DN */
        char cert_common_name[256];     /* that certificate's subject commonName ("" when it has none) */
        char image_digest[65];          /* Authenticode SHA-256, hex */
        char reason[600];               /* why, in words: "unsigned", "signed by CN=… not in db", … */
        size_t n_signatures;
};

/*
 * Judge one image (PE bytes) against db/dbx. Returns 0 with the verdict
 * (pass or not), or an error when the image or a database cannot be read
 * (diag says where).
 */
__attribute__((warn_unused_result))
int shield_sb_check(const uint8_t *image, size_t len, const struct shield_sb_databases *dbs,
                    struct shield_sb_verdict *ret, struct shield_diag *diag);

/*
 * Where the firmware took an executable from: edk2 DxeImageVerificationLib's
 * image origin (GetImageType(); DxeImageVerificationLib.h IMAGE_FROM_*),
 * the origin its Secure Boot policy is chosen by. Offline there are no
 * protocols to ask, so the origin is read from the device path's nodes,
 * first match wins:
 *   Fv(…) or FvFile(…)                                     -> FromFv
 *     (IMAGE_FROM_FV: a firmware volume holds it)
 *   Offset(…) (MEDIA_RELATIVE_OFFSET_RANGE_DP)             -> FromOpROM
 *     (IMAGE_FROM_OPTION_ROM: a PCI option ROM, PciBus's path for its images)
 *   USB(…), UsbClass(…), UsbWwid(…), CDROM(…), Floppy(…), MAC(…)
 *                                                          -> FromRemovableMedia
 *     (IMAGE_FROM_REMOVABLE_MEDIA: BlockIo's RemovableMedia, or edk2's MAC
 *     node rule for network boots)
 *   anything else (HD(…) on a virtio, SATA, NVMe or SCSI disk, a bare PCI
 *   device path the boot manager expands to its ESP)      -> FromFixedMedia
 *     (IMAGE_FROM_FIXED_MEDIA)
 */
enum shield_sb_image_type {
        SHIELD_SB_FROM_FIXED_MEDIA,
        SHIELD_SB_FROM_REMOVABLE_MEDIA,
        SHIELD_SB_FROM_OPROM,
        SHIELD_SB_FROM_FV,
};

/* "FromFixedMedia", "FromRemovableMedia", "FromOpROM", "FromFv". */
const char *shield_sb_image_type_name(enum shield_sb_image_type t);

/* The origin of a device path in the UEFI text form (shield_devpath_to_text()); NULL is fixed media. */
enum shield_sb_image_type shield_sb_image_type_of_path(const char *devpath_text);

/*
 * One executable the firmware loaded or refused, as its console reports it.
 * have_verdict false: the bytes could not be found (an option ROM QEMU did
 * not hand us, an image in the firmware's own volume), so status follows
 * what the firmware did (loaded: Pass; refused: Fail), SB_Variable_Match,
 * CertSubject and the verdict's reason are absent, and image_digest is what
 * the firmware measured when it did ("" otherwise).
 */
struct shield_sb_event {
        bool pass;
        bool have_verdict;
        enum shield_sb_image_type image_type;
        char path[1024];                /* EFI_Image_Path: the device path as text */
        const char *match;              /* one of the five SB_Variable_Match names; NULL without a verdict */
        char cert_subject[256];         /* CertSubject: the deciding certificate's common name; "" unknown */
        char image_digest[65];          /* ImageDigest: Authenticode SHA-256, upper-case hex; "" unknown */
        char reason[600];               /* why, in words (not on the line; --json carries it) */
        bool firmware_disagrees;        /* the offline verdict differs from what the firmware did */
};

/*
 * An event from a verdict: pass, match, CertSubject and ImageDigest (made
 * upper case) from v, the path (truncated to fit; NULL is "") and its
 * origin. The verdict's DBX_CERT_HASH_MATCH (a chain certificate revoked by
 * its TBS hash) is reported as DBX_CERT_MATCH, the name firmware consoles
 * use for any revoked certificate; the reason keeps the difference.
 */
void shield_sb_event_from_verdict(const struct shield_sb_verdict *v, const char *path, struct shield_sb_event *ret);

/*
 * The firmware-console line for one executable, with this spacing and order:
 * SB_EVENT: { "status": "Pass", "msg": "The EFI executable loaded successfully",
 * "EFI_Image_Type" : "FromFixedMedia", "EFI_Image_Path" : "…", "SB_Variable_Match" : "DB_CERT_MATCH",
 * "CertSubject" : "…", "ImageDigest" : "…" }
 * (one line; a Fail line writes "EFI_Image_Path": without the space before the
 * colon, as the consoles we follow do). Fields not known are left out; msg
 * names revocation for DBX_* refusals. Strings are JSON-escaped. malloc'd;
 * NULL when out of memory.
 */
char *shield_sb_event_line(const struct shield_sb_event *e);

/*
 * Secure_Boot_Overall_Status of a boot: 0 when the firmware reached the
 * boot program (every executable it loaded passed); on a refusal, the
 * EFI_STATUS code the firmware reported without its error bit (UEFI 2.10,
 * Appendix D): 15 for EFI_ACCESS_DENIED ("Access Denied", what edk2 returns
 * for an image Secure Boot forbids), 26 for EFI_SECURITY_VIOLATION
 * ("Security Violation", an image it could not authenticate), so the
 * number says which refusal without reading the console.
 */
#define SHIELD_SB_OVERALL_PASS 0
#define SHIELD_SB_OVERALL_ACCESS_DENIED 15
#define SHIELD_SB_OVERALL_SECURITY_VIOLATION 26

/*
 * The closing line:
 * SB_EVENT: { "Secure_Boot_Overall_Status" : 0, "status" : "Pass", "msg" : "SB_Event on Exit Boot Services" }
 * and for a refused boot (the firmware never reaches ExitBootServices):
 * SB_EVENT: { "Secure_Boot_Overall_Status" : 15, "status" : "Fail", "msg" : "SB_Event on boot refusal" }
 * malloc'd; NULL when out of memory.
 */
char *shield_sb_overall_line(int overall_status);

/* An option ROM a device of the machine carried (what the firmware found at pci_path). */
struct shield_sb_rom {
        const char *pci_path;           /* the device's path as text, "PciRoot(0x0)/Pci(0x2,0x0)" */
        const uint8_t *bytes;           /* the whole ROM (shield_option_rom_parse, shield/uefi.h) */
        size_t len;
};

/* What one boot's firmware did, for shield_sb_boot_events(). */
struct shield_sb_boot {
        const struct shield_sb_rom *roms; /* the devices' option ROMs; NULL / 0: none known */
        size_t n_roms;
        const uint8_t *eventlog;        /* the measured TCG event log; NULL when the boot sent none */
        size_t eventlog_len;
        const uint8_t *console;         /* the serial console (may hold \r and ANSI escapes) */
        size_t console_len;
        const struct shield_blockdev *disk; /* the boot disk as a raw image; NULL: bytes not available */
        const struct shield_sb_databases *dbs; /* the db and dbx the firmware used */
};

/* Caps the console and the log cannot push past (each is a line of output). */
#define SHIELD_SB_EVENTS_MAX 256

struct shield_sb_events {
        size_t n;
        struct shield_sb_event *events; /* in load order: loaded (from the log), then refused (from the console) */
        int overall_status;             /* SHIELD_SB_OVERALL_* */
        size_t n_dropped;               /* executables past SHIELD_SB_EVENTS_MAX, not listed */
};

/*
 * One event per EFI executable the firmware loaded or refused, in load
 * order. Loaded: every EV_EFI_BOOT_SERVICES_APPLICATION and _DRIVER of the
 * log (refused executables are never measured), its device path from the
 * UEFI_IMAGE_LOAD_EVENT, its bytes read from disk (the GPT partition the
 * HD() node names, by unique GUID, else number; the file its file-path node
 * names, on FAT) and judged against dbs; firmware_disagrees when that
 * verdict is Fail. Refused: each "BdsDxe: failed to load Boot#### "…" from
 * PATH: Access Denied|Security Violation" console line; a path without a
 * file is the boot manager's expansion to the removable-media default
 * \EFI\BOOT\BOOTX64.EFI on the first ESP (UEFI 2.10, 3.5.1.1).
 * Option ROMs (roms): each EFI image of each ROM is an executable at
 * PCI_PATH/Offset(start,end) (edk2's PciBus names ROM images so); one the
 * log measured was loaded and is judged on its bytes from the ROM, one it
 * did not was refused by the firmware and is listed first (ROM drivers run
 * during PCI enumeration, before any boot option), Fail, with its verdict.
 * A boot without a log (its boot program sends none) lists instead what
 * the console says the boot manager started ("BdsDxe: starting Boot####
 * "…" from PATH", printed once LoadImage() accepted the image).
 * overall_status: the first refusal's code, else SHIELD_SB_OVERALL_PASS.
 * Linear in the log and the console. Returns SHIELD_E_FORMAT when the log
 * cannot be parsed (diag says where), SHIELD_E_NOMEM; a file that cannot be
 * found or read is an event without a verdict, not an error. *ret is set
 * only on success; release it with shield_sb_events_clear().
 */
__attribute__((warn_unused_result))
int shield_sb_boot_events(const struct shield_sb_boot *boot, struct shield_sb_events *ret, struct shield_diag *diag);
void shield_sb_events_clear(struct shield_sb_events *e);
