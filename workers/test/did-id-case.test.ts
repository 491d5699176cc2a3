import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, expect, it } from "vitest";
import { enrolledAgent } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

/** A real certificate (openssl req -x509, RSA-2048): the DID document is built from its key. */
const PEM = [
  "-----BEGIN CERTIFICATE-----",
  "MIIDDTCCAfWgAwIBAgIUGdva2L2tdYOU1s8o6MIvBSDXVigwDQYJKoZIhvcNAQEL",
  "BQAwFjEUMBIGA1UEAwwLZGlkLWZpeHR1cmUwHhcNMjYxMjA3MTUwNTU4WhcNMzYx",
  "MjA0MTUwNTU4WjAWMRQwEgYDVQQDDAtkaWQtZml4dHVyZTCCASIwDQYJKoZIhvcN",
  "AQEBBQADggEPADCCAQoCggEBAMDGeOygMLjyVf71hio3/9W7FZSOBdy4wAwCY02Y",
  "/ehnEM9QHKM/wO197MyBP8VG4eQfAoLKikjgijqt2AgM4GdUdnM1OgrRTv7ssMwK",
  "Hir+3/jiADfrZF8+XuxHMWJbWOL9ZFk0oSQpd+qgftLBb4svHTCxlw/d8xguo8d1",
  "2s4nK6azP3MzlzXfltwFuYS4PeNK+UW+dgtrUnE6Ga7oXtZFgIFkXa7GTUyqnf5e",
  "hoslebtsbJA5ZA3oLDrb1lTsAHtpu3maN987ipb/zMgPQSy2yEKl2u1UdTrHME5W",
  "MgsP4mlgHnRVIaOWUsgTWf2/g2ix80o7vI/gqE6B0m1wOScCAwEAAaNTMFEwHQYD",
  "VR0OBBYEFBuLGlj6ibFFqT0FozPnrVpFz88+MB8GA1UdIwQYMBaAFBuLGlj6ibFF",
  "qT0FozPnrVpFz88+MA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEB",
  "AFjfXleVl8tnc2OUoTHimpOkP3ML8Wb9uPdk/3bKDWvFkuxHiq5fwPAuxvPCeal3",
  "wMgt4AMROcKNkS7DhOKSynBdZFvIkFgmas6OcGHzm1sEYRJ+3RbdjbxOn3/Lf7V8",
  "0iiajpA04JtNaLNK30XkQ/KakA18/pGFY9ewSoxb4FSP2JPr+baVNBHS7kJh1nyo",
  "P1CiYfkl5TYsF4FlTEAu8VrNbX2xGEnF6RzNkMmAmUjmku6Rbtplv3WxORIbJTTB",
  "xiNtavjTTImghmyHxM81pHQpCFV9h7Dpp/LiRLzltcyInTVuKHN0Mk0QlxP2EGQm",
  "2yiFCcJ4M90PcGHAi+CSj4k=",
  "-----END CERTIFICATE-----",
].join("\n");

/**
 * README: "A UUID is the same id in any case (RFC 9562): ids in paths … are taken lower-cased".
 * The origin's agent routes and the edge's risk route follow it; GET /v1/agents/:id/did.json
 * answered an agent id in upper case with 404 "No agent", as if the agent did not exist.
 */
it("GET /v1/agents/:id/did.json takes the agent id in any case and answers the lower-case DID", async () => {
  const { cert } = await enrolledAgent({ certificate_pem: `${PEM}\n` });
  const lower = await exports.default.fetch(`http://edge/v1/agents/${cert.agent_id}/did.json`);
  expect(lower.status).toBe(200);
  const upper = await exports.default.fetch(`http://edge/v1/agents/${cert.agent_id.toUpperCase()}/did.json`);
  expect(upper.status, await upper.clone().text()).toBe(200);
  expect(await upper.json()).toEqual(await lower.json());
});
