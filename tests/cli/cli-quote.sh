#!/bin/bash
# shield quote verify on standalone quote files: the real ones in ../shared/data/quotes.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

expect 0 "quote --help" "$shield" quote --help
contains "verify" "the family lists verify"
expect 0 "quote verify --help" "$shield" quote verify --help
contains "^Usage: shield quote verify" "verify synopsis"
expect 2 "verify without --sig" "$shield" quote verify --ak-pub a --msg m
expect 2 "verify with a bad --nonce" "$shield" quote verify --ak-pub a --msg m --sig s --nonce zz
expect 2 "verify with --nonce and --nonce-file" "$shield" quote verify --ak-pub a --msg m --sig s --nonce 00 --nonce-file n
expect 2 "verify of missing files" "$shield" quote verify --ak-pub "$work/no" --msg "$work/no" --sig "$work/no"

have_data quotes || { echo "skip: no ../shared/data/quotes"; finish; exit $?; }
q=$data/quotes
expect 0 "Azure SNP vTPM quote (PEM AK, bare RSASSA signature)" "$shield" quote verify --ak-pub "$q/azure-snp-vtpm-genoa/ak.pub.pem" \
        --msg "$q/azure-snp-vtpm-genoa/quote.tpms_attest.bin" --sig "$q/azure-snp-vtpm-genoa/quote.rsassa_sha256.sig" \
        --pcrs "$q/azure-snp-vtpm-genoa/pcrs.json" --nonce-file "$q/azure-snp-vtpm-genoa/nonce.bin"
contains "resetCount 53" "reports the clock info"
contains "firmware version 0x20200312.00120003" "reports the firmware version"
expect 0 "GCE quote over SHA-384 PCRs (TPMT_PUBLIC AK) --json" "$shield" quote verify --ak-pub "$q/gce-cos85-nonce9009/ak.tpmt_public.bin" \
        --msg "$q/gce-cos85-nonce9009/quote-sha384.tpms_attest.bin" --sig "$q/gce-cos85-nonce9009/quote-sha384.tpmt_signature.bin" \
        --pcrs "$q/gce-cos85-nonce9009/pcrs.json" --nonce 9009 --json
is_json "verify --json"
contains '"verified": true' "verified"
contains '"ak_format": "TPMT_PUBLIC"' "detected TPMT_PUBLIC"
contains '"reset_count": 10' "clock info in JSON"
expect 1 "GCE quote with another nonce" "$shield" quote verify --ak-pub "$q/gce-cos85-nonce9009/ak.tpmt_public.bin" \
        --msg "$q/gce-cos85-nonce9009/quote-sha256.tpms_attest.bin" --sig "$q/gce-cos85-nonce9009/quote-sha256.tpmt_signature.bin" --nonce 9008
contains "quote-nonce-mismatch" "names the nonce"
expect 0 "keylime quote with tpm2-tools' PCR file" "$shield" quote verify --ak-pub "$q/keylime-ibmsim/ak.pub" \
        --msg "$q/keylime-ibmsim/quote.out" --sig "$q/keylime-ibmsim/quotesig.out" --pcrs "$q/keylime-ibmsim/quotepcr.out" \
        --nonce "$(python3 -c "import sys;d=open(sys.argv[1],'rb').read();o=8+(d[6]<<8|d[7]);print(d[o+2:o+2+(d[o]<<8|d[o+1])].hex())" "$q/keylime-ibmsim/quote.out")"
expect 0 "trustee swtpm quote (DER SPKI AK)" "$shield" quote verify --ak-pub "$q/trustee-swtpm/ak.spki.der" \
        --msg "$q/trustee-swtpm/quote.tpms_attest.bin" --sig "$q/trustee-swtpm/quote.tpmt_signature.bin" \
        --pcrs "$q/trustee-swtpm/pcrs.json" --nonce-file "$q/trustee-swtpm/nonce.bin"
expect 1 "a quote checked against another machine's PCRs" "$shield" quote verify --ak-pub "$q/trustee-swtpm/ak.spki.der" \
        --msg "$q/trustee-swtpm/quote.tpms_attest.bin" --sig "$q/trustee-swtpm/quote.tpmt_signature.bin" \
        --pcrs "$q/azure-tdx-vtpm/pcrs.json" --nonce-file "$q/trustee-swtpm/nonce.bin"
contains "quote-pcr-digest-mismatch" "names the PCR digest"
expect 1 "a quote checked with another AK" "$shield" quote verify --ak-pub "$q/azure-tdx-vtpm/ak.pub.pem" \
        --msg "$q/trustee-swtpm/quote.tpms_attest.bin" --sig "$q/trustee-swtpm/quote.tpmt_signature.bin" --nonce-file "$q/trustee-swtpm/nonce.bin"
contains "quote-signature-invalid" "names the signature"
expect 2 "a TPM 1.2 quote is unsupported" "$shield" quote verify --ak-pub "$q/lenovo-tpm12/ak.tpm_pubkey.bin" \
        --msg "$q/lenovo-tpm12/quote.tpm_quote_info.bin" --sig "$q/lenovo-tpm12/quote.sig"
contains "TPM 1.2 quote .*not supported" "says why"
finish
