export const USAGE = `Usage: kakunin <command> [options]

Commands:
  audit verify <bundle.json> [--root root.pem] [--json]
      Verifies an evidence bundle offline (the saved response of
      GET /v1/agents/:id/evidence, or the bare bundle): format, CA chain,
      signed tree head, every entry's hash and inclusion proof, and that the
      agent's certificate was valid at the time of each event.
        --root root.pem  pin the trust anchor: the bundle's root CA must be this one
        --json           print the report as JSON on stdout

Options:
  -h, --help  show this help

Exit codes: 0 verified, 1 verification failed, 2 usage or I/O error.
`;
