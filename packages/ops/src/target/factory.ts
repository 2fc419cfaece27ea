import type { OpsContext } from "../context.ts";
import type { Target } from "./target.ts";

/**
 * The one place that names the targets: picks the implementation for `ctx.env.target`. Each is
 * imported only when chosen, so a local command loads nothing of fly and the reverse.
 */
export async function createTarget(ctx: Omit<OpsContext, "target">): Promise<Target> {
  switch (ctx.env.target) {
    case "local": {
      const { LocalTarget } = await import("../local/target.ts");
      return new LocalTarget(ctx as OpsContext);
    }
    case "fly": {
      const { FlyTarget } = await import("../fly/target.ts");
      return new FlyTarget(ctx as OpsContext);
    }
  }
}
