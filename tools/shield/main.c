/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
        "Usage: shield [--version] [--help] COMMAND [ARGS…]\n"
        "\n"
        "Shieldkit: know, with cryptographic evidence, what every machine booted.\n"
        "\n"
        "Commands:\n"
        "  eventlog   read, replay and verify TCG firmware event logs\n"
        "  ima        read, replay and verify Linux IMA measurement lists\n"
        "  keys       generate Secure Boot owner keys (PK, KEK, db)\n"
        "  initial-state  an image's Secure Boot keys (PK, KEK, db, dbx) as JSON\n"
        "  defaults   the platform's default PK, KEK, db, dbx: show, update (signed dbx/db)\n"
        "  siglist    create and inspect EFI signature lists\n"
        "  authvar    sign and verify authenticated variable updates\n"
        "  pe         hash and inspect PE/COFF boot images\n"
        "  sb         decide whether firmware would run an image (db/dbx)\n"
        "  varstore   write and read OVMF firmware variable stores\n"
        "  image      build, check and register custom shielded images\n"
        "  vm         local shielded VMs: OVMF, Secure Boot, a vTPM\n"
        "  tpm        provision a TPM (EK, AK, AK certificate), read PCRs, quote\n"
        "  attest     collect evidence from this machine's TPM\n"
        "  verify     check evidence: quote, nonce, event log, IMA, golden measurements\n"
        "  quote      verify a standalone TPM quote (tpm2-tools file formats)\n"
        "  golden     an instance's golden measurements: show, reset, export\n"
        "  agent      register with shieldd and attest to it, once or periodically\n"
        "  token      verify attestation tokens (JWT) against a JWKS\n"
        "  predict    the PCR values the next boot will have after replacing boot applications\n"
        "\n"
        "Run 'shield COMMAND --help' for a command's options.\n"
        "\n"
        "Exit status (every command): 0 ok, 1 verification failed,\n"
        "2 bad input or usage.\n";

static const struct cli_verb commands[] = {
        { "eventlog", "TCG firmware event logs", cmd_eventlog },
        { "ima", "Linux IMA measurement lists", cmd_ima },
        { "keys", "Secure Boot owner keys", cmd_keys },
        { "initial-state", "Secure Boot initial state", cmd_initial_state },
        { "defaults", "the platform's default Secure Boot keys", cmd_defaults },
        { "siglist", "EFI signature lists", cmd_siglist },
        { "authvar", "authenticated variables", cmd_authvar },
        { "pe", "PE/COFF images", cmd_pe },
        { "sb", "Secure Boot verdicts", cmd_sb },
        { "varstore", "OVMF variable stores", cmd_varstore },
        { "image", "shielded images", cmd_image },
        { "vm", "local shielded VMs", cmd_vm },
        { "tpm", "TPM provisioning, PCRs and quotes", cmd_tpm },
        { "attest", "evidence from this machine's TPM", cmd_attest },
        { "verify", "check evidence", cmd_verify },
        { "quote", "standalone quotes", cmd_quote },
        { "golden", "golden measurements", cmd_golden },
        { "agent", "attest to shieldd", cmd_agent },
        { "token", "verify attestation tokens", cmd_token },
        { "predict", "PCR values of the next boot", cmd_predict },
        { "credential", "sealed machine credentials", cmd_credential },
};

int main(int argc, char **argv) {
        if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
                printf("shield %s\n", SHIELD_VERSION);
                return EXIT_OK;
        }
        argv[0] = "shield";
        return cli_dispatch(argc, argv, usage, commands, sizeof commands / sizeof commands[0]);
}
