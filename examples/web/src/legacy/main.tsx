import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { LegacyApp } from "./LegacyApp";
import "../styles.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <LegacyApp />
  </StrictMode>,
);
