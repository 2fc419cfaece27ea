import { describe, expect, it } from "vitest";
import { closest, didYouMean } from "../../src/text/did-you-mean.ts";

describe("closest / didYouMean (leven distance, at most 2 edits)", () => {
  it.each([
    ["DATABSE_URL", ["DATABASE_URL", "SESSION_SECRET"], "DATABASE_URL"], // one insertion
    ["clinet", ["client", "backend"], "client"], // a swap is two substitutions
    ["Backend", ["client", "backend"], "backend"], // case is ignored
    ["buidl", ["build", "builder"], "build"], // the nearer of two wins
    ["bakcedn", ["backend"], undefined], // four edits away
    ["x", [], undefined],
  ])("%s among %j → %s", (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });

  it("a tie goes to the first candidate", () => {
    expect(closest("cat", ["cut", "cot"])).toBe("cut");
  });

  it("didYouMean phrases the hint, or says nothing", () => {
    expect(didYouMean("intrnal_port", ["internal_port", "processes"])).toBe("; did you mean internal_port?");
    expect(didYouMean("zzz", ["internal_port"])).toBe("");
  });
});
