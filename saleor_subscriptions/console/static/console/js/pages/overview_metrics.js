// The overview's cards that come from the metrics queries: each one is drawn when the API has
// its query (`fields`, from availableQueries) and left to a notice otherwise.
export async function renderMetrics(fields, currency, now) {
  return {};
}
