// Two projects: fast unit tests (no I/O) and integration tests against the real Redis and Postgres.
const transform = { "^.+\\.(t|j)sx?$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }] };
const shared = {
  transform,
  testEnvironment: "node",
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  roots: ["<rootDir>/apps", "<rootDir>/packages"],
};
module.exports = {
  // Per-project testTimeout is ignored by jest 30; one global bound, generous for integration tests.
  testTimeout: 30000,
  reporters: ["default", "<rootDir>/jest/summary-reporter.cjs"],
  projects: [
    { ...shared, displayName: "unit", testMatch: ["**/*.test.ts"], testPathIgnorePatterns: ["\\.int\\.test\\.ts$", "/node_modules/"] },
    { ...shared, displayName: "int", testMatch: ["**/*.int.test.ts"], globalSetup: "<rootDir>/jest/global-setup.cjs" },
  ],
};
