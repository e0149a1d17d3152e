# One image for both roles; docker-compose.yml picks the role with --role.
FROM node:20-bookworm-slim

WORKDIR /app
# The whole workspace first: npm ci needs every workspace's package.json, and the app runs from TypeScript
# sources through tsx (a devDependency), so there is no separate build stage and NODE_ENV stays unset here.
COPY . .
RUN npm ci --no-audit --no-fund && npm cache clean --force

# Not root at run time; the sources stay root-owned and read-only for the app.
USER node
ENV HOST=0.0.0.0 PORT=2024
EXPOSE 2024
CMD ["npx", "tsx", "apps/runline/src/main.ts", "--role", "all"]
