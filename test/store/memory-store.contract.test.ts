// The Store contract against the in-process store.
import { MemoryStore } from "../../src/store/memory-store.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { storeContract } from "./contract.ts";

storeContract("MemoryStore", async () => {
  const clock = new FakeClock();
  return { store: new MemoryStore(clock), clock };
});
