/** Why a calibration was refused: fewer closed deals in the period than it needs. */
export class NotEnoughDealsError extends Error {
  override readonly name = "NotEnoughDealsError";
  constructor(
    readonly closed: number,
    readonly minimum: number,
  ) {
    super(
      `Calibration needs at least ${minimum} won, lost or disqualified deals in the period; it has ${closed}. ` +
        "Widen the period (--from), or wait for more outcomes: fewer deals than that would tune the scoring to noise.",
    );
  }
}
