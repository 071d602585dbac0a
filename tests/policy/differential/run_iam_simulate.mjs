// Reads a JSON array of iam-simulate Simulation objects on stdin and prints one result per
// simulation: {"result": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"} or {"error": "..."}.
import { runSimulation } from '@cloud-copilot/iam-simulate'

let input = ''
for await (const chunk of process.stdin) input += chunk
const out = []
for (const simulation of JSON.parse(input)) {
  try {
    const response = await runSimulation(simulation, {})
    if (response.resultType === 'error') {
      out.push({ error: JSON.stringify(response.errors) })
    } else {
      out.push({ result: response.overallResult })
    }
  } catch (e) {
    out.push({ error: String(e) })
  }
}
process.stdout.write(JSON.stringify(out))
