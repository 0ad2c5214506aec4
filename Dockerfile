# The balance service image: every role (node, MySQL sink, Redis sink) runs from it, chosen by
# START_API / START_SINK_MYSQL / START_SINK_REDIS.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -q -B package -DskipTests -pl launcher -am \
 && mvn -q -B dependency:copy-dependencies -pl launcher -DincludeScope=runtime -DoutputDirectory=/out/lib \
 && cp launcher/target/launcher-*.jar /out/lib/

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /out/lib /app/lib
ENV LOG_DIR=/app/logs STATE_DIR=/app/state
EXPOSE 8080
ENTRYPOINT ["java", "-cp", "/app/lib/*", "dev.balance.launcher.Launcher"]
