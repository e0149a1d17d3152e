import type { Scenario } from "../scenario";
import { doubleKill } from "./double-kill";
import { pause } from "./pause";
import { pgRestart } from "./pg-restart";
import { pubsubDropCancel } from "./pubsub-drop-cancel";
import { randomKills } from "./random-kills";
import { redisNoPersistenceCancel } from "./redis-no-persistence-cancel";
import { redisRestartAof } from "./redis-restart-aof";
import { stateFlood } from "./state-flood";

/** Every scenario, in the order the suite runs them and the table lists them (issue #8's faults). */
export const SCENARIOS: Scenario[] = [pgRestart, doubleKill, randomKills, redisRestartAof, pause, redisNoPersistenceCancel, pubsubDropCancel, stateFlood];
