// Builds the SDK on its own (`./gradlew :publishToMavenLocal` from android-sdk/);
// the demo includes it as a project instead (android-demo/settings.gradle.kts).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "punchcore-android"
