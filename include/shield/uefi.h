/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * UEFI data formats that measured boot and Secure Boot carry: GUIDs,
 * EFI_SIGNATURE_LIST databases, device paths and load options. Parsers
 * take untrusted bytes, never read past len, and report failures with a
 * byte offset in the optional diag.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"

/* An EFI_GUID in its wire (mixed-endian) byte order. */
typedef struct shield_guid {
        uint8_t b[16];
} shield_guid;

#define SHIELD_GUID_STRING_SIZE 37 /* "8be4df61-93ca-11d2-aa0d-00e098032b8c" + NUL */

/* Lower-case canonical text form. */
void shield_guid_format(const shield_guid *g, char out[SHIELD_GUID_STRING_SIZE]);

/* Parse the canonical text form (either case, optional braces). SHIELD_E_FORMAT. */
__attribute__((warn_unused_result))
int shield_guid_parse(const char *s, shield_guid *ret);

bool shield_guid_eq(const shield_guid *a, const shield_guid *b);

/* A well-known GUID's name ("EFI_GLOBAL_VARIABLE", "EFI_CERT_X509_GUID", …) or NULL. */
const char *shield_guid_name(const shield_guid *g);

/* UEFI 2.10 section references are in lib/uefi/guid.c. */
extern const shield_guid SHIELD_GUID_GLOBAL_VARIABLE;          /* 8be4df61-93ca-11d2-aa0d-00e098032b8c */
extern const shield_guid SHIELD_GUID_IMAGE_SECURITY_DATABASE;  /* d719b2cb-3d3a-4596-a3bc-dad00e67656f */
extern const shield_guid SHIELD_GUID_SHIM_LOCK;                /* 605dab50-e046-4300-abb6-3dd810dd8b23 */
extern const shield_guid SHIELD_GUID_CERT_X509;                /* a5c059a1-94e4-4aa7-87b5-ab155c2bf072 */
extern const shield_guid SHIELD_GUID_CERT_SHA1;                /* 826ca512-cf10-4ac9-b187-be01496631bd */
extern const shield_guid SHIELD_GUID_CERT_SHA256;              /* c1c41626-504c-4092-aca9-41f936934328 */
extern const shield_guid SHIELD_GUID_CERT_SHA384;              /* ff3e5307-9fd0-48c9-85f1-8ad56c701e01 */
extern const shield_guid SHIELD_GUID_CERT_SHA512;              /* 093e0fae-a6c4-4f50-9f1b-d41e2b89c19a */
extern const shield_guid SHIELD_GUID_CERT_X509_SHA256;         /* 3bd2a492-96c0-4079-b420-fcf98ef103ed */
extern const shield_guid SHIELD_GUID_CERT_X509_SHA384;         /* 7076876e-80c2-4ee6-aad2-28b349a6865b */
extern const shield_guid SHIELD_GUID_CERT_X509_SHA512;         /* 446dbf63-2502-4cda-bcfa-2465d2b0fe9d */
extern const shield_guid SHIELD_GUID_CERT_TYPE_PKCS7;          /* 4aafd29d-68df-49ee-8aa9-347d375665a7 */

/* Caps on untrusted counts (named so errors can cite them). */
#define SHIELD_SIGLIST_ENTRIES_MAX 65536u
#define SHIELD_DEVPATH_NODES_MAX 256u

/*
 * One EFI_SIGNATURE_DATA from an EFI_SIGNATURE_LIST (UEFI 2.10, 32.4.1).
 * data points into the caller's buffer (the SignatureData, without the
 * owner GUID); offset is where the EFI_SIGNATURE_DATA starts in it.
 */
struct shield_siglist_entry {
        shield_guid type;      /* the list's SignatureType */
        shield_guid owner;     /* SignatureOwner */
        const uint8_t *data;
        size_t size;
        size_t offset;
        unsigned list_index;   /* which EFI_SIGNATURE_LIST (0-based) */
};

struct shield_siglist {
        size_t n_lists;
        size_t n;
        struct shield_siglist_entry *entries; /* malloc'd array of n */
};

/*
 * Parse a concatenation of EFI_SIGNATURE_LISTs covering exactly len bytes
 * (len 0 is an empty database). Checks SignatureListSize, header size,
 * SignatureSize (> 16, divides the body) and, for known types, the size the
 * type implies. Entries point into buf, which must outlive *ret.
 */
__attribute__((warn_unused_result))
int shield_siglist_parse(const uint8_t *buf, size_t len, struct shield_siglist *ret,
                         struct shield_diag *diag);
void shield_siglist_clear(struct shield_siglist *list);

/*
 * Build signature lists the way efitools does, byte for byte: one
 * EFI_CERT_X509 list per certificate (cert-to-efi-sig-list), and one
 * EFI_CERT_SHA256 list holding all hashes (hash-to-efi-sig-list). Appends
 * to *buf and *len (a malloc'd buffer; NULL and 0 to start). SHIELD_E_INVAL for an
 * empty certificate or a list over 4 GiB.
 */
__attribute__((warn_unused_result))
int shield_siglist_append_x509(uint8_t **buf, size_t *len, const shield_guid *owner, const uint8_t *der,
                               size_t der_len);
__attribute__((warn_unused_result))
int shield_siglist_append_sha256(uint8_t **buf, size_t *len, const shield_guid *owner, const uint8_t (*hashes)[32],
                                 size_t n);

/*
 * Turn what a user gives for a Secure Boot database into signature lists:
 * an X.509 certificate (DER or PEM) becomes one EFI_CERT_X509 list with
 * owner; a file of signature lists is taken as it is (after checking it
 * parses); a signed update (EFI_VARIABLE_AUTHENTICATION_2) gives its
 * payload. Appends to *buf and *len; *ret_was_cert (may be NULL) says which.
 * SHIELD_E_FORMAT when the bytes are none of these.
 */
__attribute__((warn_unused_result))
int shield_siglist_append_input(uint8_t **buf, size_t *len, const shield_guid *owner, const uint8_t *in,
                                size_t in_len, bool *ret_was_cert);

/* Counts by kind, for summaries: X.509 certificates and hashes of any kind. */
void shield_siglist_counts(const struct shield_siglist *list, size_t *ret_x509, size_t *ret_hashes,
                           size_t *ret_other);

/*
 * Render an EFI_DEVICE_PATH_PROTOCOL sequence (len bytes) in the UEFI text
 * form (UEFI 2.10, 10.6), e.g.
 * "PciRoot(0x0)/Pci(0x1,0x0)/HD(1,GPT,<guid>,0x800,0x32000)/\EFI\BOOT\BOOTX64.EFI".
 * Unknown nodes are rendered generically ("Path(type,subtype,hex)"), never
 * refused; a node length under 4 or past the end is SHIELD_E_FORMAT. The
 * walk stops at End Entire; bytes after it are ignored. *ret is malloc'd.
 */
__attribute__((warn_unused_result))
int shield_devpath_to_text(const uint8_t *buf, size_t len, char **ret, struct shield_diag *diag);

/* EFI_LOAD_OPTION (UEFI 2.10, 3.1.3), the content of Boot#### variables. */
struct shield_load_option {
        uint32_t attributes;
        char *description;          /* UTF-8, malloc'd */
        char *device_path;          /* text form, malloc'd */
        const uint8_t *optional_data;
        size_t optional_size;
};

__attribute__((warn_unused_result))
int shield_load_option_parse(const uint8_t *buf, size_t len, struct shield_load_option *ret,
                             struct shield_diag *diag);
void shield_load_option_clear(struct shield_load_option *opt);

/*
 * EFI_VARIABLE_AUTHENTICATION_2 (UEFI 2.10, 8.2.2): the header of a
 * time-based authenticated variable update (PK/KEK/db/dbx .auth files,
 * Microsoft's DBXUpdate.bin): EFI_TIME, then WIN_CERTIFICATE_UEFI_GUID
 * (dwLength, wRevision 0x0200, wCertificateType 0x0EF1, CertType
 * EFI_CERT_TYPE_PKCS7_GUID, the PKCS#7 SignedData), then the new data.
 */
struct shield_authvar2 {
        uint8_t timestamp[16];          /* EFI_TIME as stored */
        const uint8_t *pkcs7;           /* DER SignedData, points into the input */
        size_t pkcs7_size;
        const uint8_t *payload;         /* the variable data (usually signature lists) */
        size_t payload_size;
};

/* Split an AUTHENTICATION_2 file; errors name the offset. */
__attribute__((warn_unused_result))
int shield_authvar2_parse(const uint8_t *buf, size_t len, struct shield_authvar2 *ret, struct shield_diag *diag);

/* The vendor GUID of a Secure Boot variable: PK/KEK global, db/dbx/dbt/dbr the image security database. */
__attribute__((warn_unused_result))
int shield_secure_boot_var_vendor(const char *name, shield_guid *ret);

/*
 * The bytes an AUTHENTICATION_2 signature covers (UEFI 2.10, 8.2.2):
 * VariableName (UTF-16LE, no NUL) || VendorGuid || Attributes || TimeStamp
 * || Data. *ret is malloc'd.
 */
__attribute__((warn_unused_result))
int shield_authvar2_signed_bytes(const char *name, const shield_guid *vendor, uint32_t attributes,
                                 const uint8_t timestamp[16], const uint8_t *data, size_t len, uint8_t **ret,
                                 size_t *ret_len);

struct tm;
/*
 * EFI_TIME (UEFI 2.10, 8.3) of a broken-down UTC time: Year (LE16), Month,
 * Day, Hour, Minute, Second; Nanosecond, TimeZone and Daylight zero, as
 * time-based authenticated variables require.
 */
void shield_efi_time_encode(const struct tm *tm, uint8_t ret[16]);

/* Serialize EFI_TIME || WIN_CERTIFICATE_UEFI_GUID(pkcs7) || data. *ret is malloc'd. */
__attribute__((warn_unused_result))
int shield_authvar2_serialize(const uint8_t timestamp[16], const uint8_t *pkcs7, size_t pkcs7_len, const uint8_t *data,
                              size_t len, uint8_t **ret, size_t *ret_len);


/* ---- PCI expansion ROMs (an option ROM a device carries) ---- */
#define SHIELD_OPTION_ROM_MAX (16u << 20)       /* a ROM larger than this is refused */
#define SHIELD_OPTION_ROM_IMAGES_MAX 16         /* images in one ROM */

struct shield_rom_image {
        size_t offset, length;          /* of the image in the ROM (what edk2's Offset(start,end) node names) */
        uint16_t vendor, device;        /* PCIR */
        uint8_t code_type;              /* 0 legacy x86, 3 EFI, … */
        bool efi;                       /* code type 3 with a valid EFI_PCI_EXPANSION_ROM_HEADER */
        uint16_t subsystem, machine, compression; /* EFI images: 0x0b BS driver, 0x8664 x64, 0 none / 1 EFI */
        size_t pe_offset, pe_length;    /* EFI images: the PE/COFF bytes (compressed when compression is 1) */
};

/*
 * The images of a ROM in chain order (up to the one marked last, or the
 * end). Each header, PCI data structure and EFI header is bounds-checked;
 * SHIELD_E_FORMAT / _TRUNCATED / _LIMIT with diag naming the image and
 * offset. At most max images are written to ret; *ret_n on success.
 */
__attribute__((warn_unused_result))
int shield_option_rom_parse(const uint8_t *buf, size_t len, struct shield_rom_image *ret, size_t max, size_t *ret_n,
                            struct shield_diag *diag);
