// @peculiar/x509 2.x resolves its algorithm providers through tsyringe, which needs the
// reflect-metadata polyfill loaded first. Every module imports x509 through this file.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
