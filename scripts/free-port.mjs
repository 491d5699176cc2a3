// Prints a free TCP port on 127.0.0.1 (the OS picks it), so test services never collide with a
// developer's running ones.
import { createServer } from "node:net";
const s = createServer();
s.listen(0, "127.0.0.1", () => {
  const addr = s.address();
  process.stdout.write(String(typeof addr === "object" && addr ? addr.port : 0));
  s.close();
});
