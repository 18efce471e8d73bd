// Evaluates a graph with the reference evaluator (float64, unfused, unless asked otherwise).

export { evaluate as lowerAndRun } from "../../compiler/ir/evaluate.js";
