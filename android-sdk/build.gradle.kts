// dev.punchcore:punchcore-android — the Android library (AAR): the generated
// bindings and coroutine layer (bindings/kotlin), the OkHttp transport, the
// platform adapters (src/main/kotlin), libpunchcore.so per ABI
// (scripts/build-android.sh fills src/main/jniLibs) and the consumer R8 rules.
// Not built on the project's Linux machines (no Android SDK or AGP there):
// android-sdk/pom.xml compiles the same sources against android-all and runs
// them under Robolectric; scripts/check-keep-rules.sh proves the R8 rules.
plugins {
    id("com.android.library") version "8.13.0"
    id("org.jetbrains.kotlin.android") version "2.2.20"
    `maven-publish`
}

group = "dev.punchcore"
version = "0.1.0"

android {
    namespace = "dev.punchcore.android"
    compileSdk = 36
    defaultConfig {
        // 26: java.time without desugaring, Settings.Global.BOOT_COUNT, JobScheduler network types.
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
    }
    // The native libraries come prebuilt from cargo-ndk; AGP only packages them
    // (keepDebugSymbols: they are already stripped; the unstripped copies for
    // symbolication are in target/android-symbols/).
    ndkVersion = "28.2.13676358"
    packaging { jniLibs { keepDebugSymbols += "**/libpunchcore.so" } }
    sourceSets["main"].apply {
        kotlin.srcDir("../bindings/kotlin/src/main/kotlin")
        jniLibs.srcDir("src/main/jniLibs")
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    publishing { singleVariant("release") { withSourcesJar() } }
}

kotlin { jvmToolchain(17) }

dependencies {
    // JNA's .aar ships libjnidispatch.so for every Android ABI (≥ 5.18.1 for 16 KB pages).
    api("net.java.dev.jna:jna:5.19.1@aar")
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
    api("com.squareup.okhttp3:okhttp:5.5.1")
}

val buildNative by tasks.registering(Exec::class) {
    description = "libpunchcore.so for arm64-v8a, armeabi-v7a, x86_64 (cargo-ndk, NDK r28, 16 KB pages)"
    workingDir = rootDir.resolve("..")
    commandLine("scripts/build-android.sh")
}
tasks.named("preBuild") { dependsOn(buildNative) }

publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "dev.punchcore"
            artifactId = "punchcore-android"
            afterEvaluate { from(components["release"]) }
            pom {
                name.set("punchcore-android")
                description.set("Offline-first signed punch clock for Android apps: Rust core, Kotlin API, platform adapters")
                licenses { license { name.set("Apache-2.0") } }
            }
        }
    }
}
