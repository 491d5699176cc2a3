import type { Command } from "../command.ts";
import { agentsCreate } from "./agents-create.ts";
import { agentsGet } from "./agents-get.ts";
import { agentsList } from "./agents-list.ts";
import { agentsRetire } from "./agents-retire.ts";
import { auditCheckArchive } from "./audit-check-archive.ts";
import { auditExport } from "./audit-export.ts";
import { auditReport } from "./audit-report.ts";
import { auditVerify } from "./audit-verify.ts";
import { caCsr } from "./ca-csr.ts";
import { caImport } from "./ca-import.ts";
import { caRollover } from "./ca-rollover.ts";
import { caRootCrl } from "./ca-root-crl.ts";
import { certify } from "./certify.ts";
import { completion } from "./completion.ts";
import { credentialsCreate } from "./credentials-create.ts";
import { credentialsList } from "./credentials-list.ts";
import { credentialsRevoke } from "./credentials-revoke.ts";
import { eventsSend } from "./events-send.ts";
import { init } from "./init.ts";
import { renew } from "./renew.ts";
import { revoke } from "./revoke.ts";
import { risk } from "./risk.ts";
import { tokensCreate } from "./tokens-create.ts";
import { verify } from "./verify.ts";
import { reviews } from "./reviews.ts";
import { review } from "./review.ts";
import { webhooksAdd, webhooksDeliveries, webhooksList, webhooksRemove } from "./webhooks.ts";

/** Every command, in the order `kakunin --help` lists them. */
export const COMMANDS: readonly Command[] = [
  init, agentsCreate, agentsList, agentsGet, agentsRetire, certify, renew, revoke, credentialsCreate, credentialsList, credentialsRevoke,
  tokensCreate, eventsSend, risk, verify, auditExport, auditVerify, auditReport, auditCheckArchive, caRollover, completion,
  reviews, review, webhooksList, webhooksAdd, webhooksDeliveries, webhooksRemove,
  caCsr, caImport, caRootCrl,
];

/** Two-word commands share a group (`agents`, `audit`, ...), which has its own help. */
export const GROUPS: readonly string[] = [...new Set(COMMANDS.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0]!))];
