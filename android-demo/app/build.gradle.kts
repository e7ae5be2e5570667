import org.gradle.api.tasks.Exec

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "dev.punchcore.demo"
    compileSdk = 35
    defaultConfig {
        applicationId = "dev.punchcore.demo"
        minSdk = 28 // BiometricPrompt, StrongBox, getCurrentLocation fall-backs below
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // Where the demo server runs; change for a real backend (https only).
        buildConfigField("String", "PUNCH_SERVER_URL", "\"http://10.0.2.2:8787\"")
        // `punch-server admin --db server.db policy-key`
        buildConfigField("String", "PUNCH_POLICY_KEY", "\"PASTE-THE-BASE64-POLICY-KEY\"")
    }
    buildFeatures { buildConfig = true }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    sourceSets["main"].apply {
        // The Kotlin library: generated bindings + coroutine layer, used as source.
        kotlin.srcDir("../../bindings/kotlin/src/main/kotlin")
        // Filled by the cargoNdk task below.
        jniLibs.srcDir(layout.buildDirectory.dir("rustJniLibs"))
    }
}

kotlin { jvmToolchain(17) }

dependencies {
    // JNA's .aar ships libjnidispatch.so for every Android ABI.
    implementation("net.java.dev.jna:jna:5.19.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
}

// Builds libpunchcore.so for the phone ABIs with cargo-ndk
// (`cargo install cargo-ndk`; ANDROID_NDK_HOME set; rustup targets added).
val cargoNdk by tasks.registering(Exec::class) {
    workingDir = rootProject.file("..")
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64",
        "-o", layout.buildDirectory.dir("rustJniLibs").get().asFile.absolutePath,
        "build", "--locked", "-p", "punch-ffi", "--profile", "release-ffi",
    )
}
tasks.named("preBuild") { dependsOn(cargoNdk) }
