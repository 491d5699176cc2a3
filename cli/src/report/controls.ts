/**
 * Which evidence in the report supports which obligation. Articles are cited only where their
 * text was read (Regulation (EU) 2024/1689 Art. 12(1)–(2) and 14(1); Regulation (EU) 2022/2554
 * Art. 10(1)–(3); Regulation (EU) 2016/679 Art. 22(1) and (3)). MiCA is named without an article:
 * no article of it was checked. Not legal advice; the report says so.
 */
export interface Control {
  framework: string;
  obligation: string;
  citation: string | null;
  evidence: string[];
}

export const CONTROLS: readonly Control[] = [
  {
    framework: "EU AI Act (Regulation (EU) 2024/1689)",
    obligation:
      "Record-keeping: automatic recording of events (logs) over the system's lifetime, for traceability and for identifying situations that may present a risk.",
    citation: "Art. 12(1) and 12(2)(a)",
    evidence: [
      "§3 Activity: every action the agent reported, time-stamped and scored",
      "§5 Proof: entries in a signed, append-only Merkle log, verified before this report was written",
    ],
  },
  {
    framework: "EU AI Act (Regulation (EU) 2024/1689)",
    obligation: "Human oversight: the system can be effectively overseen by natural persons while in use.",
    citation: "Art. 14(1)",
    evidence: [
      "§4 Risk decisions and reviews: each high-risk alert, the policy that acted on it, and each human review (decision, reason, reviewer key)",
      "§2 Certificates: revocation by a person or by policy stops the agent at every gateway",
    ],
  },
  {
    framework: "DORA (Regulation (EU) 2022/2554)",
    obligation:
      "ICT incident detection: mechanisms to promptly detect anomalous activities, with alert thresholds and criteria that trigger incident response.",
    citation: "Art. 10(1) and 10(2)",
    evidence: [
      "§3 Activity: per-event anomaly score and band with the features that raised it",
      "§4 Risk decisions: the threshold crossing and the automatic response (revocation or review)",
    ],
  },
  {
    framework: "DORA (Regulation (EU) 2022/2554)",
    obligation: "Monitoring user activity and the occurrence of ICT anomalies.",
    citation: "Art. 10(3)",
    evidence: ["§3 Activity: volume over time and actions by kind", "§5 Proof: a tamper-evident record of the monitoring itself"],
  },
  {
    framework: "GDPR (Regulation (EU) 2016/679)",
    obligation:
      "Automated individual decisions: where a decision based solely on automated processing is allowed, the right to obtain human intervention and to contest it.",
    citation: "Art. 22(1) and 22(3)",
    evidence: [
      "§4 Risk decisions and reviews: which decisions were automatic (policy) and which were taken or confirmed by a person, with reasons",
      "§3 Activity: the inputs (events) each decision was based on, with their scores and reasons",
    ],
  },
  {
    framework: "MiCA (Regulation (EU) 2023/1114), where the agent serves a crypto-asset service",
    obligation: "Record-keeping and operational-risk evidence for crypto-asset services.",
    citation: null,
    evidence: ["The same sections as above; no MiCA article is cited because none was checked for this report"],
  },
];
