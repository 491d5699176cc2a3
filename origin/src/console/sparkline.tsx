/** @jsxImportSource hono/jsx */

/**
 * A server-rendered SVG sparkline (works without JavaScript, needs no inline script or style):
 * scores in [0,1], with the high-band threshold as a faint line.
 */
export function Sparkline(props: { scores: number[]; label: string }) {
  const w = 120;
  const h = 28;
  if (props.scores.length === 0) return <span class="muted">—</span>;
  const n = props.scores.length;
  const x = (i: number) => (n === 1 ? w / 2 : (i / (n - 1)) * (w - 4) + 2);
  const y = (s: number) => h - 2 - Math.max(0, Math.min(1, s)) * (h - 4);
  const points = props.scores.map((s, i) => `${x(i).toFixed(1)},${y(s).toFixed(1)}`).join(" ");
  const last = props.scores[n - 1]!;
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
      <line x1="0" x2={w} y1={y(0.85)} y2={y(0.85)} class="spark-high" />
      <polyline points={points} class="spark-line" fill="none" />
      <circle cx={x(n - 1)} cy={y(last)} r="2" class="spark-dot" />
    </svg>
  );
}
