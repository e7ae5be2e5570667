// Android Studio project for the punch demo app. Not built on the project's
// Linux machines (no Android SDK/NDK there): see README.md.
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
rootProject.name = "punch-demo"
include(":app")
// The SDK module from this repository (android-sdk/).
include(":punchcore-android")
project(":punchcore-android").projectDir = file("../android-sdk")
